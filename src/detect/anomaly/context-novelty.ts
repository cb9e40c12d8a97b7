/** Options of {@link ContextNovelty}; every field states its default. */
export interface ContextNoveltyOptions {
  /** Levels the warm-up range is cut into (values beyond it get one extra level each side). Default 16. */
  readonly levels?: number;
  /** Longest context: the last 1…`orders` levels are each checked as a context. Default 4. */
  readonly orders?: number;
  /**
   * A transition is known once it has been seen this many times (before that it still counts as
   * novel): one noisy occurrence does not teach the model a pattern. Default 2.
   */
  readonly known?: number;
  /**
   * Most transitions remembered (bounds the saved state of a long-running watch: about 18 bytes
   * of JSON each). Once full, new transitions are still scored novel but not stored. Default
   * 50,000 (the noisiest NAB file, 4,032 records of noise, needs 10,767).
   */
  readonly maxTransitions?: number;
}

/** Serializable state of {@link ContextNovelty}. */
export interface ContextNoveltyState {
  readonly levels: number;
  readonly orders: number;
  readonly known: number;
  readonly maxTransitions: number;
  /** Warm-up range that defines the levels; null before {@link ContextNovelty.fit}. */
  readonly lo: number | null;
  readonly hi: number | null;
  /** Levels of the last `orders` records, oldest first. */
  readonly history: number[];
  /** Every transition seen, as `"<context levels>><next level>"`, with its count (capped at `known`). */
  readonly transitions: [string, number][];
}

/**
 * Contextual novelty, in the spirit of Numenta's CAD OSE entry (our own, simpler design): the
 * value is discretised into levels of the warm-up range; for every context length k = 1…orders
 * the detector asks whether the transition "last k levels → this level" is known (seen at least
 * `known` times before).
 * The score is the share of novel transitions, weighted 1/k so that a never-seen short context
 * (a jump no day has shown) counts more than a new long one. It learns every record it scores.
 *
 * It catches changes of *pattern* that a one-step forecast follows without a large error (a
 * wave that changes shape, a flat stretch at a usual level) — complementary to forecast error.
 */
export class ContextNovelty {
  private readonly levels: number;
  private readonly orders: number;
  private readonly known: number;
  private readonly maxTransitions: number;
  private lo: number | null = null;
  private hi: number | null = null;
  private history: number[] = [];
  private transitions = new Map<string, number>();

  constructor(options: ContextNoveltyOptions = {}) {
    this.levels = Math.max(1, Math.floor(options.levels ?? 16));
    this.orders = Math.max(1, Math.floor(options.orders ?? 4));
    this.known = Math.max(1, Math.floor(options.known ?? 2));
    this.maxTransitions = Math.max(0, Math.floor(options.maxTransitions ?? 50_000));
  }

  /** Fixes the levels from the warm-up values and learns their transitions. */
  fit(values: ArrayLike<number>): void {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] ?? 0;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo > hi) return;
    this.lo = lo;
    this.hi = hi;
    for (let i = 0; i < values.length; i++) this.update(values[i] ?? 0);
  }

  /** Scores one value (share of novel transitions in [0, 1]; 0 before {@link fit}) and learns it. */
  update(value: number): number {
    if (this.lo === null || this.hi === null) return 0;
    const level = this.level(value, this.lo, this.hi);
    let novel = 0;
    let total = 0;
    let context = '';
    const h = this.history;
    for (let k = 1; k <= this.orders && k <= h.length; k++) {
      context = `${String(h[h.length - k])},${context}`;
      const transition = `${context}>${String(level)}`;
      const weight = 1 / k;
      total += weight;
      const count = this.transitions.get(transition) ?? 0;
      if (count < this.known) {
        novel += weight;
        if (count > 0 || this.transitions.size < this.maxTransitions) {
          this.transitions.set(transition, count + 1);
        }
      }
    }
    h.push(level);
    if (h.length > this.orders) h.shift();
    return total > 0 ? novel / total : 0;
  }

  private level(value: number, lo: number, hi: number): number {
    const range = hi - lo || 1;
    const b = Math.floor(((value - lo) / range) * this.levels);
    if (b < 0) return -1;
    if (b >= this.levels) return value > hi ? this.levels : this.levels - 1;
    return b;
  }

  save(): ContextNoveltyState {
    return {
      levels: this.levels,
      orders: this.orders,
      lo: this.lo,
      hi: this.hi,
      history: [...this.history],
      known: this.known,
      maxTransitions: this.maxTransitions,
      transitions: [...this.transitions],
    };
  }

  /** Rebuilds a model saved by {@link save}. */
  static restore(state: ContextNoveltyState): ContextNovelty {
    const c = new ContextNovelty({
      levels: state.levels,
      orders: state.orders,
      known: state.known,
      maxTransitions: state.maxTransitions,
    });
    c.lo = state.lo;
    c.hi = state.hi;
    c.history = [...state.history];
    c.transitions = new Map(state.transitions);
    return c;
  }
}
