// The bytes of requests the server holds for all its connections at once: frames still being
// received, and the requests of calls in flight (a decoded request is a view of its frame, so
// the frame lives as long as its call). One budget shared by every connection bounds what any
// number of clients sending half frames, or large requests that never finish, can make the
// agent keep.

export class ReceiveBudget {
  private heldBytes = 0;

  constructor(readonly limit: number) {}

  get held(): number {
    return this.heldBytes;
  }

  /** Takes `bytes` if they fit under the limit. */
  tryReserve(bytes: number): boolean {
    if (this.heldBytes + bytes > this.limit) return false;
    this.heldBytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes);
  }
}
