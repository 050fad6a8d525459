/**
 * The send outbox. A send is retried with the same clientId through network
 * failures, server errors, restarts and rate limits, until it is stored, a
 * permanent error refuses it, or the app aborts it; the clientId makes every
 * retry idempotent, so a lost acknowledgement never stores a second copy.
 * Sends of one room go out one after another, so a retried send never
 * overtakes a later one.
 */
import { Message } from "./answers";
import { ChatError } from "./errors";
import type { SendOptions } from "./options";
import { withRetries } from "./retry";
import type { Transport } from "./transport";

type SendBody = { content: string; clientId: string; attachments?: string[] };

export class SendOutbox {
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(private readonly transport: Transport) {}

  send(roomId: string, content: string, options: SendOptions = {}): Promise<Message> {
    const body: SendBody = { content, clientId: options.clientId ?? crypto.randomUUID() };
    if (options.attachments?.length) body.attachments = options.attachments;
    const previous = this.#queues.get(roomId) ?? Promise.resolve();
    const result = previous.then(
      () => this.#deliver(roomId, body, options.signal),
      () => this.#deliver(roomId, body, options.signal),
    );
    const settled = result.catch(() => undefined);
    this.#queues.set(roomId, settled);
    void settled.then(() => {
      if (this.#queues.get(roomId) === settled) this.#queues.delete(roomId);
    });
    return result;
  }

  async #deliver(roomId: string, body: SendBody, signal: AbortSignal | undefined): Promise<Message> {
    if (signal?.aborted) throw new ChatError("cancelled", "send was cancelled");
    const path = `/api/rooms/${encodeURIComponent(roomId)}/messages`;
    return withRetries(() => this.transport.request(Message, "POST", path, body, signal), { signal, cancelledMessage: "send was cancelled" });
  }
}
