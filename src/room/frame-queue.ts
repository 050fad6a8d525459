/**
 * Frame order per socket. Frames are handled synchronously except a send,
 * which waits for the user's cross-room limits (one RPC). Every send starts
 * on arrival (frames.ts), but storing and answering it, and whatever the
 * socket's later frames do, wait here for the sends before them, so its
 * answers come in the order of its frames. What waits is bounded: more
 * frames waiting than the socket's frame burst is a flood.
 */
type Handler = () => void | Promise<void>;

export class FrameQueues {
  #queues = new Map<string, { tail: Promise<void>; waiting: number }>();

  /**
   * Handles a socket's frame now, or after the frames before it. Errors
   * (thrown or rejected) go to `onError`. False when too many frames already
   * wait: the caller closes the socket.
   */
  run(socketId: string, handle: Handler, maxWaiting: number, onError: (error: unknown) => void): boolean {
    const guarded: Handler = () => {
      try {
        return handle();
      } catch (error) {
        return onError(error);
      }
    };
    let queue = this.#queues.get(socketId);
    let pending: void | Promise<void>;
    if (queue) {
      if (queue.waiting >= maxWaiting) return false;
      queue.waiting++;
      const waitingIn = queue;
      pending = queue.tail.then(() => {
        waitingIn.waiting--;
        return guarded();
      });
    } else {
      pending = guarded();
      if (!pending) return true;
      queue = { tail: pending, waiting: 0 };
      this.#queues.set(socketId, queue);
    }
    const tail = pending.catch(onError);
    queue.tail = tail;
    void tail.then(() => {
      if (this.#queues.get(socketId)?.tail === tail) this.#queues.delete(socketId);
    });
    return true;
  }
}
