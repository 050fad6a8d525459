/** peek: the first bytes of a body for sniffing, and a stream of the whole body, those bytes included. */
import { describe, expect, it } from "vitest";
import { concat, peek } from "../../../src/media/streams";

function streamOf(chunks: number[][]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(new Uint8Array(c));
      controller.close();
    },
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) out.push(...chunk);
  return out;
}

describe("peek", () => {
  it("reads whole chunks until it has at least n bytes, and gives back the body unchanged", async () => {
    const { head, stream } = await peek(streamOf([[1, 2], [3, 4, 5], [6], [7, 8]]), 4);
    expect([...head]).toEqual([1, 2, 3, 4, 5]);
    expect(await readAll(stream)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("takes a body shorter than n whole", async () => {
    const { head, stream } = await peek(streamOf([[9, 8], [7]]), 100);
    expect([...head]).toEqual([9, 8, 7]);
    expect(await readAll(stream)).toEqual([9, 8, 7]);
  });

  it("handles an empty body", async () => {
    const { head, stream } = await peek(streamOf([]), 10);
    expect(head.byteLength).toBe(0);
    expect(await readAll(stream)).toEqual([]);
  });
});

describe("concat", () => {
  it("joins chunks into one array of the given total", () => {
    expect([...concat([new Uint8Array([1]), new Uint8Array([2, 3]), new Uint8Array([])], 3)]).toEqual([1, 2, 3]);
    expect(concat([], 0).byteLength).toBe(0);
  });
});
