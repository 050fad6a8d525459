/**
 * Moving request bodies into R2 without holding whole files in memory.
 *
 * R2 `put` and `uploadPart` take a stream only when its length is known (a
 * request body with Content-Length, or the readable side of a
 * FixedLengthStream). So a body whose first bytes were read for sniffing is
 * put back together and fed through a FixedLengthStream of the declared length,
 * which also errors if the client sends more or fewer bytes than it declared.
 */

export class TooLargeError extends Error {}

/** Reads at least `n` bytes (or to the end) and returns them with a stream of the whole body, those bytes included. */
export async function peek(body: ReadableStream<Uint8Array>, n: number): Promise<{ head: Uint8Array; stream: ReadableStream<Uint8Array> }> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  while (total < n) {
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    chunks.push(value);
    total += value.byteLength;
  }
  const head = concat(chunks, total);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      if (head.byteLength > 0) controller.enqueue(head);
      if (ended) controller.close();
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { head, stream };
}

/** A stream R2 accepts: exactly `length` bytes of `source`, or an error. */
export function withLength(source: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  const fixed = new FixedLengthStream(length);
  // Errors surface on the readable side, where R2 is reading.
  source.pipeTo(fixed.writable).catch(() => undefined);
  return fixed.readable as ReadableStream<Uint8Array>;
}

/**
 * Stores a body of undeclared length, refusing it once it passes `max` bytes.
 * Up to one part is buffered: a body that fits in one part is put whole; a
 * longer one becomes a multipart upload of `partBytes` parts, so memory stays
 * at one part whatever the file's size. On any failure nothing is left in R2.
 */
export async function putUnknownLength(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  opts: { max: number; partBytes: number; httpMetadata: R2HTTPMetadata },
): Promise<{ size: number; etag: string }> {
  const reader = body.getReader();
  let buffered: Uint8Array[] = [];
  let bufferedBytes = 0;
  let total = 0;
  let upload: R2MultipartUpload | null = null;
  const parts: R2UploadedPart[] = [];

  const takePart = (bytes: number): Uint8Array => {
    const all = concat(buffered, bufferedBytes);
    const part = all.slice(0, bytes);
    const rest = all.slice(bytes);
    buffered = rest.byteLength > 0 ? [rest] : [];
    bufferedBytes = rest.byteLength;
    return part;
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > opts.max) throw new TooLargeError(`body is larger than ${opts.max} bytes`);
      buffered.push(value);
      bufferedBytes += value.byteLength;
      while (bufferedBytes >= opts.partBytes && bufferedBytes > 0) {
        upload ??= await bucket.createMultipartUpload(key, { httpMetadata: opts.httpMetadata });
        parts.push(await upload.uploadPart(parts.length + 1, takePart(opts.partBytes)));
      }
    }
    if (!upload) {
      const object = await bucket.put(key, concat(buffered, bufferedBytes), { httpMetadata: opts.httpMetadata });
      return { size: total, etag: object.httpEtag };
    }
    if (bufferedBytes > 0) parts.push(await upload.uploadPart(parts.length + 1, takePart(bufferedBytes)));
    const object = await upload.complete(parts);
    return { size: total, etag: object.httpEtag };
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (upload) await upload.abort().catch(() => undefined);
    throw error;
  }
}

export function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.byteLength === total) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
