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
import { AnomalyLikelihood, logLikelihood, type LikelihoodState } from './likelihood.ts';
import type { LstmForecasterOptions } from './lstm/forecaster.ts';
import { stateData } from './state.ts';

/** Options of {@link ForecastDetector}; every field states its default. */
export interface ForecastDetectorOptions extends DetectorOptions {
  /** Which forecaster predicts the next value. Default `lstm`. */
  readonly forecaster?: ForecasterKind;
  /** LSTM options (see {@link LstmForecasterOptions}); the seed comes from `seed`. */
  readonly lstm?: Omit<LstmForecasterOptions, 'seed'>;
  /**
   * Spatial check: a value beyond the range seen so far by more than this fraction of the range
   * scores 1 at once; a negative value disables the check. Default 0.02.
   */
  readonly spatialTolerance?: number;
  /** After a score at or above `alarmLevel`, the next `suppressFor` records score 0. Default 100. */
  readonly suppressFor?: number;
  /** Score that triggers suppression (Numenta's 0.5: a likelihood tail of 1e-5). Default 0.5. */
  readonly alarmLevel?: number;
  /** Moving average of raw errors compared by the likelihood layer. Default 10. */
  readonly averagingWindow?: number;
}

interface Data {
  kind: string;
  probation: number;
  spatialTolerance: number;
  suppressFor: number;
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
}

const VERSION = 1;

/**
 * Forecast-error detector: a forecaster predicts each value; the error, relative to the range of
 * values seen so far, goes through the anomaly-likelihood layer and its log scale; a value
 * outside the range seen so far (beyond a small tolerance) scores 1; after an alarm the detector
 * stays quiet for a while so one incident raises one alarm.
 *
 * The forecaster is trained on the first `probation` records (scores 0 meanwhile), then runs
 * one step ahead on live data. Everything is deterministic for a given seed.
 */
export class ForecastDetector implements Detector {
  private readonly forecaster: Forecaster;
  private readonly likelihood: AnomalyLikelihood;

  constructor(
    readonly kind: string,
    private readonly d: Data,
    forecaster: Forecaster,
  ) {
    this.forecaster = forecaster;
    this.likelihood = new AnomalyLikelihood({
      learningPeriod: 0,
      estimationSamples: 100,
      averagingWindow: d.averagingWindow,
    });
    if (d.likelihood.iteration > 0) this.likelihood.load(d.likelihood);
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
      spatialTolerance: options.spatialTolerance ?? 0.02,
      suppressFor: options.suppressFor ?? 100,
      alarmLevel: options.alarmLevel ?? 0.5,
      averagingWindow: options.averagingWindow ?? 10,
      seen: 0,
      min: null,
      max: null,
      suppress: 0,
      warmTimes: [],
      warmValues: [],
      forecaster: forecaster.save(),
      likelihood: new AnomalyLikelihood().save(),
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
    if (outside) score = 1;
    d.seen++;
    if (d.suppress > 0) {
      d.suppress--;
      return 0;
    }
    if (score >= d.alarmLevel) d.suppress = d.suppressFor;
    return clamp01(score);
  }

  private finishWarmUp(): void {
    const d = this.d;
    this.forecaster.fit(d.warmTimes, d.warmValues);
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
