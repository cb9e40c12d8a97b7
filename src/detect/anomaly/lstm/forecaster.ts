import { SeededRandom } from '../random.ts';
import { Adam, type AdamState } from './adam.ts';
import { LstmNetwork, type Sample } from './network.ts';

/** Options of {@link LstmForecaster}; every field states its default. */
export interface LstmForecasterOptions {
  /** Hidden units. Default 12. */
  readonly hidden?: number;
  /** Past records the network sees for each forecast. Default 24. */
  readonly steps?: number;
  /** Passes over the warm-up data in the initial fit. Default 12. */
  readonly epochs?: number;
  /** Samples per Adam step. Default 16. */
  readonly batch?: number;
  /** Adam step size. Default 0.02 (0.005 left the network worse than "next = last"). */
  readonly learningRate?: number;
  /**
   * Online fine-tuning: one pass over the most recent `retrainWindow` samples every this many
   * records (0 = never). Default 0: on NAB it cost ~6 points (the model learns the anomalies).
   */
  readonly retrainEvery?: number;
  /** Samples in an online fine-tuning pass. Default 250. */
  readonly retrainWindow?: number;
  /** Seed of weight initialization and sample shuffling. Default 1. */
  readonly seed?: number;
}

/** Features per step: normalized value, time of day (sin, cos), day of week (sin, cos). */
const FEATURES = 5;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** Normalized inputs are clipped so a wild spike cannot saturate the network for long. */
const CLIP = 8;

/** Serializable state of {@link LstmForecaster}. */
export interface LstmForecasterState {
  readonly options: Required<LstmForecasterOptions>;
  readonly params: number[] | null;
  readonly adam: AdamState | null;
  readonly center: number;
  readonly scale: number;
  readonly random: number;
  readonly recent: number[];
  readonly sinceRetrain: number;
}

/**
 * One-step-ahead forecaster: an LSTM over the last `steps` records (value plus calendar
 * features) trained with BPTT and Adam on the warm-up data, then fine-tuned online.
 * Deterministic for a given seed: initialization and shuffling use {@link SeededRandom}.
 */
export class LstmForecaster {
  private readonly o: Required<LstmForecasterOptions>;
  private net: LstmNetwork | null = null;
  private adam: Adam | null = null;
  private readonly random: SeededRandom;
  private center = 0;
  private scale = 1;
  /** Feature rows of recent records, newest last (at most steps + retrainWindow rows). */
  private recent: number[] = [];
  private sinceRetrain = 0;
  private readonly window: Float64Array;
  private grad: Float64Array | null = null;

  constructor(options: LstmForecasterOptions = {}) {
    this.o = {
      hidden: options.hidden ?? 12,
      steps: options.steps ?? 24,
      epochs: options.epochs ?? 12,
      batch: options.batch ?? 16,
      learningRate: options.learningRate ?? 0.02,
      retrainEvery: options.retrainEvery ?? 0,
      retrainWindow: options.retrainWindow ?? 250,
      seed: options.seed ?? 1,
    };
    this.random = new SeededRandom(this.o.seed);
    this.window = new Float64Array(this.o.steps * FEATURES);
  }

  /** True once {@link fit} has trained a network. */
  get trained(): boolean {
    return this.net !== null;
  }

  /** Scale used to normalize values (robust spread of the warm-up data). */
  get valueScale(): number {
    return this.scale;
  }

  private features(timestamp: number, value: number): number[] {
    const v = Math.max(-CLIP, Math.min(CLIP, (value - this.center) / this.scale));
    const day = ((timestamp % DAY_MS) / DAY_MS) * 2 * Math.PI;
    const week = ((timestamp % WEEK_MS) / WEEK_MS) * 2 * Math.PI;
    return [v, Math.sin(day), Math.cos(day), Math.sin(week), Math.cos(week)];
  }

  /**
   * Trains a fresh network on the warm-up records (needs more than `steps` of them) and returns
   * its one-step forecasts of those records (NaN for the first `steps`), so a caller can learn
   * the usual size of its errors before live data arrives.
   */
  fit(timestamps: ArrayLike<number>, values: ArrayLike<number>): Float64Array {
    const n = values.length;
    const sorted = Float64Array.from(values).sort();
    const q = (p: number): number => sorted[Math.min(n - 1, Math.floor(p * (n - 1)))] ?? 0;
    this.center = q(0.5);
    const spread = q(0.95) - q(0.05);
    const range = (sorted[n - 1] ?? 0) - (sorted[0] ?? 0);
    this.scale = spread > 0 ? spread / 2 : range > 0 ? range / 2 : Math.max(Math.abs(this.center), 1);
    this.recent = [];
    for (let i = 0; i < n; i++) this.recent.push(...this.features(timestamps[i] ?? 0, values[i] ?? 0));
    const net = new LstmNetwork({ inputs: FEATURES, hidden: this.o.hidden });
    net.initialize(this.random);
    this.net = net;
    this.adam = new Adam(net.params.length, { learningRate: this.o.learningRate });
    this.grad = new Float64Array(net.params.length);
    const samples = this.samples(n);
    for (let e = 0; e < this.o.epochs; e++) this.epoch(samples);
    const fitted = new Float64Array(n).fill(Number.NaN);
    samples.forEach((s, k) => {
      fitted[k + this.o.steps] = net.forward(s.x, this.o.steps) * this.scale + this.center;
    });
    this.trimRecent();
    this.sinceRetrain = 0;
    return fitted;
  }

  /** Forecast of the next value (in data units), or NaN before {@link fit}. */
  predict(): number {
    const net = this.net;
    const steps = this.o.steps;
    const rows = this.recent.length / FEATURES;
    if (net === null || rows < steps) return Number.NaN;
    const from = (rows - steps) * FEATURES;
    for (let k = 0; k < steps * FEATURES; k++) this.window[k] = this.recent[from + k] ?? 0;
    return net.forward(this.window, steps) * this.scale + this.center;
  }

  /** Appends an observed record; fine-tunes every `retrainEvery` records. */
  observe(timestamp: number, value: number): void {
    this.recent.push(...this.features(timestamp, value));
    if (this.net === null) return;
    this.sinceRetrain++;
    if (this.o.retrainEvery > 0 && this.sinceRetrain >= this.o.retrainEvery) {
      this.sinceRetrain = 0;
      this.epoch(this.samples(this.recent.length / FEATURES));
    }
    this.trimRecent();
  }

  private trimRecent(): void {
    const keep = (this.o.steps + this.o.retrainWindow + 1) * FEATURES;
    if (this.recent.length > keep) this.recent = this.recent.slice(this.recent.length - keep);
  }

  /** Training samples from the last `rows` feature rows: each window predicts the next value. */
  private samples(rows: number): Sample[] {
    const steps = this.o.steps;
    const out: Sample[] = [];
    const base = this.recent.length / FEATURES - rows;
    for (let end = steps; end < rows; end++) {
      const from = (base + end - steps) * FEATURES;
      out.push({
        x: Float64Array.from(this.recent.slice(from, from + steps * FEATURES)),
        target: this.recent[(base + end) * FEATURES] ?? 0,
      });
    }
    return out;
  }

  private epoch(samples: Sample[]): void {
    const net = this.net;
    const adam = this.adam;
    const grad = this.grad;
    if (net === null || adam === null || grad === null || samples.length === 0) return;
    // Seeded Fisher–Yates shuffle.
    const order = samples.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(this.random.next() * (i + 1));
      const t = order[i] ?? 0;
      order[i] = order[j] ?? 0;
      order[j] = t;
    }
    for (let b = 0; b < order.length; b += this.o.batch) {
      const batch = order.slice(b, b + this.o.batch).map((i) => samples[i] as Sample);
      net.lossAndGradient(batch, this.o.steps, grad);
      adam.step(net.params, grad);
    }
  }

  save(): LstmForecasterState {
    return {
      options: { ...this.o },
      params: this.net === null ? null : Array.from(this.net.params),
      adam: this.adam === null ? null : this.adam.save(),
      center: this.center,
      scale: this.scale,
      random: this.random.state,
      recent: [...this.recent],
      sinceRetrain: this.sinceRetrain,
    };
  }

  /** Rebuilds a forecaster from {@link save} output. */
  static restore(state: LstmForecasterState): LstmForecaster {
    const f = new LstmForecaster(state.options);
    f.center = state.center;
    f.scale = state.scale;
    f.random.state = state.random;
    f.recent = [...state.recent];
    f.sinceRetrain = state.sinceRetrain;
    if (state.params !== null) {
      f.net = new LstmNetwork(
        { inputs: FEATURES, hidden: state.options.hidden },
        Float64Array.from(state.params),
      );
      f.adam = new Adam(state.params.length, { learningRate: state.options.learningRate });
      if (state.adam !== null) f.adam.load(state.adam);
      f.grad = new Float64Array(state.params.length);
    }
    return f;
  }
}
