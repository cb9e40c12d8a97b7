import {
  DEFAULT_PROBATION,
  clamp01,
  type Detector,
  type DetectorOptions,
  type DetectorState,
} from './detector.ts';
import {
  createForecaster,
  restoreForecaster,
  type ForecasterKind,
  type ForecasterState,
  type Forecaster,
} from './forecaster.ts';
import { ContextNovelty, type ContextNoveltyOptions, type ContextNoveltyState } from './context-novelty.ts';
import { AnomalyLikelihood, logLikelihood, type LikelihoodState } from './likelihood.ts';
import type { LstmForecasterOptions } from './lstm/forecaster.ts';
import { stateData } from './state.ts';

/** Options of {@link ForecastDetector}; every field states its default. */
export interface ForecastDetectorOptions extends DetectorOptions {
  /** Which forecaster predicts the next value. Default `lstm`. */
  readonly forecaster?: ForecasterKind;
  /** Whether the forecast-error member scores at all (false: ablation without it). Default true. */
  readonly forecastError?: boolean;
  /** LSTM options (see {@link LstmForecasterOptions}); the seed comes from `seed`. */
  readonly lstm?: Omit<LstmForecasterOptions, 'seed'>;
  /**
   * Spatial check: a value beyond the range seen so far by more than this fraction of the range
   * scores 1 at once; a negative value disables the check. Default 0.02.
   */
  readonly spatialTolerance?: number;
  /**
   * After a score at or above `alarmLevel`, the next `max(suppressFor, ⌊suppressFraction ·
   * records seen so far⌋)` records score 0. Defaults 100 and 0.04 (the horizon grows with what
   * has been seen, never with what is still to come).
   */
  readonly suppressFor?: number;
  /** See `suppressFor`. Default 0.04; 0 keeps the fixed horizon. */
  readonly suppressFraction?: number;
  /**
   * Confidence ramp after warm-up: scores are scaled from ½ to 1 over this many records after the
   * probation (young models raise more false alarms). Default 1200; 0 disables it.
   */
  readonly warmUpRamp?: number;
  /**
   * Contextual-novelty member (see {@link ContextNovelty}), scored through its own likelihood
   * layer; the detector reports the larger of the two log-likelihoods. Default
   * `{ levels: 16, orders: 4, known: 2 }` (see {@link ContextNoveltyOptions}); `null` disables it.
   */
  readonly context?: ContextNoveltyOptions | null;
  /** Score that triggers suppression (Numenta's 0.5: a likelihood tail of 1e-5). Default 0.5. */
  readonly alarmLevel?: number;
  /** Moving average of raw errors compared by the likelihood layer. Default 20. */
  readonly averagingWindow?: number;
}

interface Data {
  kind: string;
  probation: number;
  forecastError: boolean;
  spatialTolerance: number;
  suppressFor: number;
  suppressFraction: number;
  warmUpRamp: number;
  alarmLevel: number;
  averagingWindow: number;
  seen: number;
  /** Smallest and largest values seen; null before the first (JSON has no infinities). */
  min: number | null;
  max: number | null;
  suppress: number;
  warmTimes: number[];
  warmValues: number[];
  forecaster: ForecasterState;
  likelihood: LikelihoodState;
  /** Contextual-novelty member and its likelihood layer; null when disabled. */
  context: { model: ContextNoveltyState; likelihood: LikelihoodState } | null;
}

const VERSION = 2;

/** Moving average of novelty scores compared by the context member's likelihood layer. */
const CONTEXT_AVERAGING = 10;

/** Likelihood layer of each member: scores from the first live record, estimated after 100. */
function newLikelihood(averagingWindow: number): AnomalyLikelihood {
  return new AnomalyLikelihood({ learningPeriod: 0, estimationSamples: 100, averagingWindow });
}

/**
 * Forecast-error detector: a forecaster predicts each value; the error, relative to the range of
 * values seen so far, goes through the anomaly-likelihood layer and its log scale; a
 * contextual-novelty member goes through its own likelihood layer and the larger of the two
 * counts; a value outside the range seen so far (beyond a small tolerance) scores 1; scores
 * ramp up from half over the first records after warm-up; after an alarm the detector stays
 * quiet for a while (longer as the series ages) so one incident raises one alarm.
 *
 * The forecaster is trained on the first `probation` records (scores 0 meanwhile), then runs
 * one step ahead on live data. Everything is deterministic for a given seed.
 */
export class ForecastDetector implements Detector {
  private readonly forecaster: Forecaster;
  private readonly likelihood: AnomalyLikelihood;
  private readonly context: ContextNovelty | null;
  private readonly contextLikelihood: AnomalyLikelihood | null;

  constructor(
    readonly kind: string,
    private readonly d: Data,
    forecaster: Forecaster,
  ) {
    this.forecaster = forecaster;
    this.likelihood = newLikelihood(d.averagingWindow);
    if (d.likelihood.iteration > 0) this.likelihood.load(d.likelihood);
    if (d.context === null) {
      this.context = null;
      this.contextLikelihood = null;
    } else {
      this.context = ContextNovelty.restore(d.context.model);
      this.contextLikelihood = newLikelihood(CONTEXT_AVERAGING);
      if (d.context.likelihood.iteration > 0) this.contextLikelihood.load(d.context.likelihood);
    }
  }

  /** Creates a fresh detector registered as `kind`. */
  static create(kind: string, options: ForecastDetectorOptions = {}): ForecastDetector {
    const forecaster = createForecaster(options.forecaster ?? 'lstm', {
      ...options.lstm,
      seed: options.seed ?? 1,
    });
    const data: Data = {
      kind,
      probation: Math.max(options.probation ?? DEFAULT_PROBATION, 2),
      forecastError: options.forecastError ?? true,
      spatialTolerance: options.spatialTolerance ?? 0.02,
      suppressFor: options.suppressFor ?? 100,
      suppressFraction: options.suppressFraction ?? 0.04,
      warmUpRamp: options.warmUpRamp ?? 1200,
      alarmLevel: options.alarmLevel ?? 0.5,
      averagingWindow: options.averagingWindow ?? 20,
      seen: 0,
      min: null,
      max: null,
      suppress: 0,
      warmTimes: [],
      warmValues: [],
      forecaster: forecaster.save(),
      likelihood: new AnomalyLikelihood().save(),
      context:
        options.context === null
          ? null
          : {
              model: new ContextNovelty(options.context ?? {}).save(),
              likelihood: new AnomalyLikelihood().save(),
            },
    };
    return new ForecastDetector(kind, data, forecaster);
  }

  /** Rebuilds a detector saved by {@link save}. */
  static restore(kind: string, state: DetectorState): ForecastDetector {
    const data = structuredClone(stateData(state, kind, VERSION) as Data);
    return new ForecastDetector(kind, data, restoreForecaster(data.forecaster));
  }

  update(timestamp: number, value: number): number {
    const d = this.d;
    if (!Number.isFinite(value)) return 0;
    const min = d.min ?? value;
    const max = d.max ?? value;
    const range = max - min;
    const outside =
      d.spatialTolerance >= 0 &&
      (value > max + d.spatialTolerance * range || value < min - d.spatialTolerance * range);
    d.min = Math.min(min, value);
    d.max = Math.max(max, value);
    if (d.seen < d.probation) {
      d.warmTimes.push(timestamp);
      d.warmValues.push(value);
      d.seen++;
      if (d.seen === d.probation) this.finishWarmUp();
      return 0;
    }
    const predicted = this.forecaster.predict();
    this.forecaster.observe(timestamp, value);
    const raw = Number.isNaN(predicted) ? 0 : rawError(value, predicted, range);
    let score = logLikelihood(this.likelihood.update(raw));
    if (!d.forecastError) score = 0;
    if (this.context !== null && this.contextLikelihood !== null) {
      const novelty = this.context.update(value);
      score = Math.max(score, logLikelihood(this.contextLikelihood.update(novelty)));
    }
    if (outside) score = 1;
    score = clamp01(score);
    const live = d.seen - d.probation;
    if (live < d.warmUpRamp) score *= 0.5 + (0.5 * live) / d.warmUpRamp;
    const seen = d.seen;
    d.seen++;
    if (d.suppress > 0) {
      d.suppress--;
      return 0;
    }
    if (score >= d.alarmLevel) d.suppress = Math.max(d.suppressFor, Math.floor(d.suppressFraction * seen));
    return score;
  }

  private finishWarmUp(): void {
    const d = this.d;
    this.forecaster.fit(d.warmTimes, d.warmValues);
    this.context?.fit(d.warmValues);
    d.warmTimes = [];
    d.warmValues = [];
  }

  save(): DetectorState {
    return {
      kind: this.kind,
      version: VERSION,
      data: {
        ...structuredClone(this.d),
        forecaster: this.forecaster.save(),
        likelihood: this.likelihood.save(),
        context:
          this.context === null || this.contextLikelihood === null
            ? null
            : { model: this.context.save(), likelihood: this.contextLikelihood.save() },
      },
    };
  }
}

/** Forecast error relative to the range seen so far, capped at 1. */
function rawError(value: number, predicted: number, range: number): number {
  const err = Math.abs(value - predicted);
  if (range > 0) return Math.min(1, err / range);
  return err === 0 ? 0 : 1;
}
