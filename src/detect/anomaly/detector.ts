/**
 * The Detector port: a streaming anomaly detector over one metric series.
 *
 * A detector sees one record at a time, in order, and never looks ahead. `update` returns an
 * anomaly score in [0, 1] for the record it was just given (1 = most anomalous). Its whole state
 * is a JSON value (`save`), from which the same factory rebuilds an equivalent detector
 * (`DetectorFactory.restore`): a restored detector returns exactly the scores the original would.
 */
export interface Detector {
  /** Registry name of the detector kind, e.g. `lifeline`. */
  readonly kind: string;
  /** Consumes one record and returns its anomaly score in [0, 1]. */
  update(timestamp: number, value: number): number;
  /** A JSON-serializable snapshot of the whole state. */
  save(): DetectorState;
}

/** A saved detector: its kind, a format version and kind-specific JSON data. */
export interface DetectorState {
  readonly kind: string;
  readonly version: number;
  readonly data: unknown;
}

/** Options every detector takes when it is created. */
export interface DetectorOptions {
  /**
   * Records used to warm up and train before scores mean anything (NAB's probationary period,
   * `min(⌊0.15·n⌋, 750)` on a NAB file). Scores during warm-up are 0. Default 750.
   */
  readonly probation?: number;
  /** Seed for every random choice (weight init, sampling). Default 1. */
  readonly seed?: number;
}

/** Builds detectors of one kind. */
export interface DetectorFactory {
  readonly kind: string;
  /** One line for `--help` and the bench table. */
  readonly description: string;
  /**
   * The score at which this detector calls a record anomalous, fixed from its definition and
   * never from labels (e.g. a likelihood tail of 1e-5). Used for alerts and NAB's label-free score.
   */
  readonly alarmLevel: number;
  create(options?: DetectorOptions): Detector;
  /** Rebuilds a detector from `save()` output; throws a LifelineError on a foreign or bad state. */
  restore(state: DetectorState): Detector;
}

/** Default warm-up length (records). */
export const DEFAULT_PROBATION = 750;

/** Clamps to [0, 1]; NaN becomes 0. */
export function clamp01(x: number): number {
  if (!(x > 0)) return 0;
  return x > 1 ? 1 : x;
}
