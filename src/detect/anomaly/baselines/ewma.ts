import {
  DEFAULT_PROBATION,
  clamp01,
  type Detector,
  type DetectorFactory,
  type DetectorOptions,
  type DetectorState,
} from '../detector.ts';
import { stateData } from '../state.ts';
import { ALARM_Z, zToUnit } from '../stats.ts';

const KIND = 'ewma';
const VERSION = 1;

/** Options of the EWMA baseline. */
export interface EwmaOptions extends DetectorOptions {
  /** Smoothing factor of the mean and of the variance. Default 0.05 (≈ 20-record memory). */
  readonly alpha?: number;
}

interface Data {
  alpha: number;
  probation: number;
  seen: number;
  mean: number;
  variance: number;
}

/**
 * Exponentially weighted mean and variance (West's incremental form); the score is
 * `1 − P(|Z| as extreme)` of the new value against them, computed before they absorb it.
 */
class Ewma implements Detector {
  readonly kind = KIND;

  constructor(private readonly d: Data) {}

  update(_timestamp: number, value: number): number {
    const d = this.d;
    let score = 0;
    if (d.seen === 0) {
      d.mean = value;
    } else {
      const std = Math.sqrt(d.variance);
      const dev = Math.abs(value - d.mean);
      const z = std > 0 ? dev / std : dev === 0 ? 0 : Number.POSITIVE_INFINITY;
      score = zToUnit(z);
      const diff = value - d.mean;
      const incr = d.alpha * diff;
      d.mean += incr;
      d.variance = (1 - d.alpha) * (d.variance + diff * incr);
    }
    d.seen++;
    return d.seen <= d.probation ? 0 : clamp01(score);
  }

  save(): DetectorState {
    return { kind: KIND, version: VERSION, data: { ...this.d } };
  }
}

/** Factory of the EWMA baseline. */
export const ewmaFactory: DetectorFactory = {
  kind: KIND,
  description: 'z-score against an exponentially weighted mean and variance (alpha 0.05)',
  alarmLevel: zToUnit(ALARM_Z),
  create(options: EwmaOptions = {}): Detector {
    return new Ewma({
      alpha: options.alpha ?? 0.05,
      probation: options.probation ?? DEFAULT_PROBATION,
      seen: 0,
      mean: 0,
      variance: 0,
    });
  },
  restore(state: DetectorState): Detector {
    return new Ewma({ ...(stateData(state, KIND, VERSION) as Data) });
  },
};
