/**
 * Exponential backoff with jitter, as the Rust client's (`backoff.rs`): the n-th delay is drawn
 * from `[b/2, b]` where `b = min(start · 2ⁿ, cap)`, so clients that lost the service together
 * do not all come back at the same instant.
 */
export class Backoff {
  #attempt = 0;

  constructor(
    readonly startMs = 250,
    readonly capMs = 10_000,
  ) {}

  /** The delay to wait before the next try; each call doubles the step up to the cap. */
  nextDelayMs(): number {
    const step = Math.min(this.startMs * 2 ** Math.min(this.#attempt, 31), this.capMs);
    this.#attempt += 1;
    return step / 2 + (step / 2) * Math.random();
  }

  /** Back to the first step, after a success. */
  reset(): void {
    this.#attempt = 0;
  }
}
