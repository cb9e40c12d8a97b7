// `make bench-nab`: every registered detector on the NAB dev subset. Prints, per detector, the
// three NAB scores (NAB's threshold sweep), the score at the detector's label-free alarm level,
// and points/s for warm-up/training and for scoring; then checks that two runs of `lifeline`
// with the same seed give identical scores. NAB_DIR overrides the dataset location.
import { join } from 'node:path';
import {
  DETECTORS,
  NAB_PROFILE_NAMES,
  RECOMMENDED_DETECTOR,
  detectorFactory,
  forecastDetectorFactory,
  loadNabDir,
  loadNabWindows,
  report,
  runDetector,
  type DetectorRun,
} from '../src/detect/anomaly/index.ts';

const root = process.env['NAB_DIR'] ?? '/work/shared/datasets/nab';
const series = await loadNabDir(join(root, 'data'));
const windows = await loadNabWindows(join(root, 'labels', 'dev_windows.json'));
const points = series.reduce((s, x) => s + x.values.length, 0);
process.stdout.write(`NAB dev subset: ${series.length} files, ${points} points (${root})\n`);
process.stdout.write(
  'label-free score: every detector flags at its own alarm level, fixed by its definition ' +
    '(lifeline: log-likelihood 0.5 = tail probability 1e-5; baselines: z = 4.265)\n\n',
);

const pad = (s: string, n: number): string => s.padEnd(n);
const header = [
  pad('detector', 18),
  pad('standard', 9),
  pad('low_FP', 9),
  pad('low_FN', 9),
  pad('fixed std/lowFP/lowFN', 24),
  pad('train pts/s', 12),
  'score pts/s',
].join(' ');
process.stdout.write(`${header}\n`);

const standard = new Map<string, number>();
// Ablations of lifeline: without the LSTM (last-value forecaster, everything else equal);
// without the contextual-novelty member; the LSTM member alone (no context member, spatial
// check, warm-up ramp or suppression); the context member alone with the spatial check and
// post-processing (no forecast-error member).
const ABLATIONS = [
  forecastDetectorFactory('lifeline-naive', 'lifeline with next = last', { forecaster: 'last-value' }),
  forecastDetectorFactory('lifeline-no-ctx', 'lifeline without the context member', { context: null }),
  forecastDetectorFactory('ctx+spatial', 'context member, spatial check, ramp, suppression', {
    forecaster: 'last-value',
    forecastError: false,
  }),
  forecastDetectorFactory('lstm+likelihood', 'LSTM error → likelihood only', {
    forecaster: 'lstm',
    context: null,
    spatialTolerance: -1,
    suppressFor: 0,
    suppressFraction: 0,
    warmUpRamp: 0,
  }),
];

let firstLifeline: DetectorRun | undefined;
for (const factory of [...DETECTORS, ...ABLATIONS]) {
  const run = runDetector(factory, series, windows, 1);
  if (factory.kind === RECOMMENDED_DETECTOR) firstLifeline = run;
  const r = report(factory.kind, run.files, factory.alarmLevel);
  const t = run.timing;
  const fixed = r.fixed;
  standard.set(factory.kind, r.profiles.standard.normalized);
  process.stdout.write(
    [
      pad(factory.kind, 18),
      ...NAB_PROFILE_NAMES.map((p) => pad(r.profiles[p].normalized.toFixed(1), 9)),
      pad(
        fixed === undefined
          ? ''
          : NAB_PROFILE_NAMES.map((p) => fixed.profiles[p].normalized.toFixed(1)).join(' / '),
        24,
      ),
      pad((t.trainPoints / t.trainSeconds).toFixed(0), 12),
      (t.scorePoints / t.scoreSeconds).toFixed(0),
    ].join(' ') + '\n',
  );
}

const best = standard.get(RECOMMENDED_DETECTOR) ?? 0;
const baseline = standard.get('windowed-gaussian') ?? 0;
process.stdout.write(
  `\n${RECOMMENDED_DETECTOR} standard ${best.toFixed(1)} = ${(best / baseline).toFixed(2)}× the same-run ` +
    `windowed-gaussian (${baseline.toFixed(1)}); goal ≥ 70\n`,
);

// Determinism: a second run with the same seed must reproduce every score bit for bit.
const again = runDetector(detectorFactory(RECOMMENDED_DETECTOR), series, windows, 1);
let differing = 0;
again.files.forEach((f, i) => {
  const a = firstLifeline?.files[i]?.scores;
  for (let k = 0; k < f.scores.length; k++) if (a?.[k] !== f.scores[k]) differing++;
});
process.stdout.write(
  `determinism: second ${RECOMMENDED_DETECTOR} run, seed 1: ${differing} of ${points} scores differ\n`,
);
if (differing > 0) process.exitCode = 1;
