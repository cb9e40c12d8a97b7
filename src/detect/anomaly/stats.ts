/**
 * A fixed-capacity ring buffer of numbers. Statistics are recomputed from the values, oldest
 * first, rather than kept as running sums: a detector restored from saved values then computes
 * bit-identical results to the one that never stopped.
 */
export class RollingWindow {
  private readonly buf: Float64Array;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.buf = new Float64Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Appends `x`, dropping the oldest value when full. */
  push(x: number): void {
    if (this.count === this.capacity) {
      this.buf[this.start] = x;
      this.start = (this.start + 1) % this.capacity;
    } else {
      this.buf[(this.start + this.count) % this.capacity] = x;
      this.count++;
    }
  }

  /** The i-th value, oldest first. */
  at(i: number): number {
    return this.buf[(this.start + i) % this.capacity] ?? 0;
  }

  mean(): number {
    if (this.count === 0) return 0;
    let sum = 0;
    for (let i = 0; i < this.count; i++) sum += this.at(i);
    return sum / this.count;
  }

  /** Population standard deviation. */
  std(): number {
    if (this.count < 2) return 0;
    const m = this.mean();
    let s = 0;
    for (let i = 0; i < this.count; i++) {
      const d = this.at(i) - m;
      s += d * d;
    }
    return Math.sqrt(s / this.count);
  }

  /** Values oldest first. */
  toArray(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.at(i));
    return out;
  }

  /** Rebuilds a window from `toArray()` output. */
  static from(capacity: number, values: readonly number[]): RollingWindow {
    const w = new RollingWindow(capacity);
    for (const v of values) w.push(v);
    return w;
  }
}

/** Median of a copy of `values` (0 when empty). */
export function median(values: ArrayLike<number>): number {
  const a = Float64Array.from(values).sort();
  const n = a.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  return n % 2 === 1 ? (a[mid] ?? 0) : ((a[mid - 1] ?? 0) + (a[mid] ?? 0)) / 2;
}

/** Complementary error function (Numerical Recipes erfc, |error| < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Upper tail probability of a standard normal: P(Z > z). */
export function normalTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * Maps a non-negative z-score to [0, 1) without saturating: `z / (z + 3)` (z = 3 → 0.5). Unlike
 * `1 − tail probability`, which rounds to exactly 1 beyond z ≈ 8, large deviations stay ordered.
 */
export function zToUnit(z: number): number {
  if (!(z > 0)) return 0;
  if (z === Number.POSITIVE_INFINITY) return 1;
  return z / (z + 3);
}

/** z-score whose two-sided normal tail is about 2e-5 (one-sided 1e-5): the baselines' alarm level. */
export const ALARM_Z = 4.265;
