import { DETECTORS } from '../../src/detect/anomaly/registry.ts';
import { detectorConformance } from './detector-conformance.ts';

for (const factory of DETECTORS) detectorConformance(factory);
