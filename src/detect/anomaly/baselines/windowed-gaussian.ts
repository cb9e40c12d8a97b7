import {
  DEFAULT_PROBATION,
  clamp01,
  type Detector,
  type DetectorFactory,
  type DetectorOptions,
  type DetectorState,
} from '../detector.ts';
import { stateData } from '../state.ts';
import { ALARM_Z, normalTail } from '../stats.ts';

const KIND = 'windowed-gaussian';
const VERSION = 1;

/** Options of the windowed-Gaussian baseline. */
export interface WindowedGaussianOptions extends DetectorOptions {
  /** Values the Gaussian is fitted on (NAB's windowedGaussian uses 6400). Default 6400. */
  readonly window?: number;
  /** The fit is refreshed every this many values once the window is full. Default 100. */
  readonly step?: number;
}

interface Data {
  window: number;
  step: number;
  probation: number;
  seen: number;
  values: number[];
  buffer: number[];
  mean: number;
  std: number;
}

/**
 * NAB's windowed Gaussian: the score is `1 − P(|Z| as extreme)` under a normal fitted on the last
 * `window` values (two-sided, by reflection around the mean).
 */
class WindowedGaussian implements Detector {
  readonly kind = KIND;

  constructor(private readonly d: Data) {}

  update(_timestamp: number, value: number): number {
    const d = this.d;
    let score = 0;
    if (d.values.length > 0) {
      const z =
        d.std > 0 ? Math.abs(value - d.mean) / d.std : value === d.mean ? 0 : Number.POSITIVE_INFINITY;
      score = 1 - normalTail(z);
    }
    if (d.values.length < d.window) {
      d.values.push(value);
      this.fit();
    } else {
      d.buffer.push(value);
      if (d.buffer.length === d.step) {
        d.values = d.values.slice(d.step).concat(d.buffer);
        d.buffer = [];
        this.fit();
      }
    }
    d.seen++;
    return d.seen <= d.probation ? 0 : clamp01(score);
  }

  private fit(): void {
    const d = this.d;
    let m = 0;
    for (const v of d.values) m += v;
    m /= d.values.length;
    let s = 0;
    for (const v of d.values) s += (v - m) * (v - m);
    d.mean = m;
    d.std = Math.sqrt(s / d.values.length);
  }

  save(): DetectorState {
    return { kind: KIND, version: VERSION, data: structuredClone(this.d) };
  }
}

/** Factory of the windowed-Gaussian baseline. */
export const windowedGaussianFactory: DetectorFactory = {
  kind: KIND,
  description: "NAB's windowed Gaussian: tail probability under a normal fitted on the last 6400 values",
  alarmLevel: 1 - normalTail(ALARM_Z),
  create(options: WindowedGaussianOptions = {}): Detector {
    return new WindowedGaussian({
      window: options.window ?? 6400,
      step: options.step ?? 100,
      probation: options.probation ?? DEFAULT_PROBATION,
      seen: 0,
      values: [],
      buffer: [],
      mean: 0,
      std: 0,
    });
  },
  restore(state: DetectorState): Detector {
    return new WindowedGaussian(structuredClone(stateData(state, KIND, VERSION) as Data));
  },
};
