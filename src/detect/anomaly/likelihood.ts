import { RollingWindow, normalTail } from './stats.ts';

/** Options of {@link AnomalyLikelihood}; every field states its default. */
export interface LikelihoodOptions {
  /** Raw scores ignored at the start (the model is still learning). Default 288. */
  readonly learningPeriod?: number;
  /** Further raw scores collected before the first estimate. Default 100. */
  readonly estimationSamples?: number;
  /** Raw scores kept to estimate their distribution. Default 8640. */
  readonly historicWindow?: number;
  /** Re-estimate the distribution every this many records. Default 100. */
  readonly reestimationPeriod?: number;
  /** Short moving average of raw scores compared with the distribution. Default 10. */
  readonly averagingWindow?: number;
  /** Floors of the estimated distribution (keep a quiet series from alarming on noise). */
  readonly minMean?: number;
  /** Default 0.0003 (variance). */
  readonly minVariance?: number;
}

/** Serializable state of {@link AnomalyLikelihood}. */
export interface LikelihoodState {
  readonly iteration: number;
  readonly history: number[];
  readonly recent: number[];
  readonly mean: number;
  readonly std: number;
  readonly estimated: boolean;
}

/**
 * The anomaly-likelihood layer (after Numenta's `AnomalyLikelihood`): turns a stream of raw
 * anomaly scores into the probability that the recent raw scores are unusual for this series.
 * It models the short moving average of raw scores as a normal distribution estimated over a
 * long history, and reports `1 − P(average this high)`. A series whose raw scores are always
 * high (a noisy metric) thereby stops alarming, while a sudden run of high scores stands out.
 */
export class AnomalyLikelihood {
  private readonly learningPeriod: number;
  private readonly probationary: number;
  private readonly reestimationPeriod: number;
  private readonly averagingWindow: number;
  private readonly minMean: number;
  private readonly minVariance: number;
  private history: RollingWindow;
  private recent: RollingWindow;
  private iteration = 0;
  private mean = 0;
  private std = 1;
  private estimated = false;

  constructor(opts: LikelihoodOptions = {}) {
    this.learningPeriod = opts.learningPeriod ?? 288;
    this.probationary = this.learningPeriod + (opts.estimationSamples ?? 100);
    this.reestimationPeriod = opts.reestimationPeriod ?? 100;
    this.averagingWindow = opts.averagingWindow ?? 10;
    this.minMean = opts.minMean ?? 0.03;
    this.minVariance = opts.minVariance ?? 0.0003;
    this.history = new RollingWindow(opts.historicWindow ?? 8640);
    this.recent = new RollingWindow(this.averagingWindow);
  }

  /** Consumes one raw score in [0, 1]; returns the likelihood in [0, 1] (0.5 while learning). */
  update(raw: number): number {
    let likelihood = 0.5;
    if (this.iteration >= this.probationary) {
      if (!this.estimated || this.iteration % this.reestimationPeriod === 0) this.estimate();
      this.recent.push(raw);
      likelihood = 1 - normalTail(this.tailZ(this.recent.mean()));
    } else {
      this.recent.push(raw);
    }
    this.history.push(raw);
    this.iteration++;
    return likelihood;
  }

  private tailZ(x: number): number {
    // Below the mean is as unremarkable as the mirror image above it (Numenta's tailProbability).
    const reflected = x < this.mean ? 2 * this.mean - x : x;
    return (reflected - this.mean) / this.std;
  }

  private estimate(): void {
    // Skip the learning period while it is still inside the history window.
    const skip = Math.max(
      0,
      Math.min(this.learningPeriod - (this.iteration - this.history.length), this.history.length),
    );
    const values = this.history.toArray().slice(skip);
    // Moving averages of the raw scores, as the live score is one.
    const averages: number[] = [];
    let sum = 0;
    for (let i = 0; i < values.length; i++) {
      sum += values[i] ?? 0;
      if (i >= this.averagingWindow) sum -= values[i - this.averagingWindow] ?? 0;
      averages.push(sum / Math.min(i + 1, this.averagingWindow));
    }
    let mean = 0;
    for (const a of averages) mean += a;
    mean = averages.length > 0 ? mean / averages.length : 0;
    let variance = 0;
    for (const a of averages) variance += (a - mean) * (a - mean);
    variance = averages.length > 1 ? variance / (averages.length - 1) : 0;
    this.mean = Math.max(mean, this.minMean);
    this.std = Math.sqrt(Math.max(variance, this.minVariance));
    this.estimated = true;
  }

  save(): LikelihoodState {
    return {
      iteration: this.iteration,
      history: this.history.toArray(),
      recent: this.recent.toArray(),
      mean: this.mean,
      std: this.std,
      estimated: this.estimated,
    };
  }

  load(state: LikelihoodState): void {
    this.iteration = state.iteration;
    this.history = RollingWindow.from(this.history.capacity, state.history);
    this.recent = RollingWindow.from(this.recent.capacity, state.recent);
    this.mean = state.mean;
    this.std = state.std;
    this.estimated = state.estimated;
  }
}

/**
 * Numenta's log scale for a likelihood: `log(1.0000000001 − L) / log(1e-10)`, so 0.5 means a
 * tail probability of 1e-5 and 1 means 1e-10. Spreads the interesting range over [0, 1].
 */
export function logLikelihood(likelihood: number): number {
  return Math.log(1.0000000001 - likelihood) / -23.02585084720009;
}
