// Public surface of the anomaly module: the Detector and Forecaster ports, the registry, the
// NAB scorer and runner, and online use (Prometheus watch).
export * from './detector.ts';
export * from './forecaster.ts';
export * from './registry.ts';
export * from './likelihood.ts';
export { ForecastDetector, type ForecastDetectorOptions } from './forecast-detector.ts';
export * from './nab/dataset.ts';
export * from './nab/profiles.ts';
export * from './nab/scorer.ts';
export * from './nab/runner.ts';
