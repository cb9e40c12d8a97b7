import { LifelineError } from '../../core/errors.ts';
import { ewmaFactory } from './baselines/ewma.ts';
import { medianMadFactory } from './baselines/median-mad.ts';
import { windowedGaussianFactory } from './baselines/windowed-gaussian.ts';
import type { Detector, DetectorFactory, DetectorOptions, DetectorState } from './detector.ts';
import { ForecastDetector, type ForecastDetectorOptions } from './forecast-detector.ts';

/** Name of the recommended detector: the default of every `--detector` option. */
export const RECOMMENDED_DETECTOR = 'lifeline';

function forecastFactory(
  kind: string,
  description: string,
  preset: ForecastDetectorOptions,
): DetectorFactory {
  return {
    kind,
    description,
    alarmLevel: preset.alarmLevel ?? 0.5,
    create: (options: DetectorOptions = {}): Detector =>
      ForecastDetector.create(kind, { ...preset, ...options }),
    restore: (state: DetectorState): Detector => ForecastDetector.restore(kind, state),
  };
}

/** Builds a registry entry for a {@link ForecastDetector} preset. */
export function forecastDetectorFactory(
  kind: string,
  description: string,
  preset: ForecastDetectorOptions,
): DetectorFactory {
  return forecastFactory(kind, description, preset);
}

/**
 * Every registered detector: `lifeline`, the recommended configuration, then the baselines.
 * (The ablations that show what each part of `lifeline` contributes live in bench/nab.ts.)
 */
export const DETECTORS: readonly DetectorFactory[] = [
  forecastFactory(
    RECOMMENDED_DETECTOR,
    'max(LSTM forecast-error likelihood, contextual-novelty likelihood), spatial check, warm-up ramp, alarm suppression',
    { forecaster: 'lstm' },
  ),
  windowedGaussianFactory,
  medianMadFactory,
  ewmaFactory,
];

/** Names of the registered detectors. */
export function detectorNames(): string[] {
  return DETECTORS.map((d) => d.kind);
}

/** The factory registered under `name`; a LifelineError listing the names otherwise. */
export function detectorFactory(name: string): DetectorFactory {
  const f = DETECTORS.find((d) => d.kind === name);
  if (f === undefined) {
    throw new LifelineError('anomaly.detector', `unknown detector "${name}"`, {
      where: '--detector',
      fix: `use one of: ${detectorNames().join(', ')}`,
    });
  }
  return f;
}

/** Rebuilds a saved detector with the factory named in its state. */
export function restoreDetector(state: DetectorState): Detector {
  return detectorFactory(state.kind).restore(state);
}
