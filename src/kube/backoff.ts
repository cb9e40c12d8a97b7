/** Exponential backoff settings. */
export interface BackoffOptions {
  /** First delay. Default: 250 ms. */
  initialMs?: number;
  /** Upper bound of a delay. Default: 30 000 ms. */
  maxMs?: number;
  /** Growth per failure. Default: 2. */
  factor?: number;
  /**
   * Each delay is shortened by a random part up to this fraction, so many clients restarting
   * together spread out even at the cap. Default: 0.2.
   */
  jitter?: number;
}

/** Exponential backoff with jitter below the cap: `next()` after each failure, `reset()` after a success. */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private failures = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 250;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.2;
  }

  /** The delay before the next attempt; grows with each call until `reset()`. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.failures);
    this.failures++;
    return Math.round(base * (1 - Math.random() * this.jitter));
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  reset(): void {
    this.failures = 0;
  }
}
