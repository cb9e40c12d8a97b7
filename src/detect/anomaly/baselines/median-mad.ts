import {
  DEFAULT_PROBATION,
  clamp01,
  type Detector,
  type DetectorFactory,
  type DetectorOptions,
  type DetectorState,
} from '../detector.ts';
import { stateData } from '../state.ts';
import { RollingWindow, ALARM_Z, median, zToUnit } from '../stats.ts';

const KIND = 'median-mad';
const VERSION = 1;

/** Options of the median/MAD baseline. */
export interface MedianMadOptions extends DetectorOptions {
  /** Past values the median and MAD are taken over. Default 500. */
  readonly window?: number;
}

interface Data {
  window: number;
  probation: number;
  seen: number;
  values: number[];
}

/**
 * Robust z-score: `|x − median| / (1.4826·MAD)` over the last `window` values, mapped to
 * `1 − P(|Z| as extreme)`. Unlike a Gaussian fit, a few past outliers do not widen the band.
 */
class MedianMad implements Detector {
  readonly kind = KIND;
  private readonly past: RollingWindow;

  constructor(private readonly d: Data) {
    this.past = RollingWindow.from(d.window, d.values);
  }

  update(_timestamp: number, value: number): number {
    const d = this.d;
    let score = 0;
    if (this.past.length >= 10) {
      const values = this.past.toArray();
      const med = median(values);
      const mad = median(values.map((v) => Math.abs(v - med)));
      // A flat or mostly-flat history has MAD 0: floor the scale at 1% of the window's range so
      // the tiniest change does not score like an outage.
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const v of values) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const scale = Math.max(1.4826 * mad, 0.01 * (hi - lo));
      const dev = Math.abs(value - med);
      const z = scale > 0 ? dev / scale : dev === 0 ? 0 : Number.POSITIVE_INFINITY;
      score = zToUnit(z);
    }
    this.past.push(value);
    d.seen++;
    return d.seen <= d.probation ? 0 : clamp01(score);
  }

  save(): DetectorState {
    return { kind: KIND, version: VERSION, data: { ...this.d, values: this.past.toArray() } };
  }
}

/** Factory of the median/MAD baseline. */
export const medianMadFactory: DetectorFactory = {
  kind: KIND,
  description: 'robust z-score against the median and MAD of the last 500 values',
  alarmLevel: zToUnit(ALARM_Z),
  create(options: MedianMadOptions = {}): Detector {
    return new MedianMad({
      window: options.window ?? 500,
      probation: options.probation ?? DEFAULT_PROBATION,
      seen: 0,
      values: [],
    });
  },
  restore(state: DetectorState): Detector {
    return new MedianMad(structuredClone(stateData(state, KIND, VERSION) as Data));
  },
};
