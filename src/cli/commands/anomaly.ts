import type { Command } from '@commander-js/extra-typings';
import { render, type Column } from '../../core/index.ts';
import {
  DETECTORS,
  RECOMMENDED_DETECTOR,
  detectorFactory,
  loadNabDir,
  loadNabWindows,
  readResults,
  report,
  resultsPath,
  runDetector,
  writeResultsFile,
  NAB_PROFILE_NAMES,
  type NabReport,
} from '../../detect/anomaly/index.ts';

import { intArg, outputOption } from '../options.ts';

interface ScoreRow {
  detector: string;
  profile: string;
  score: string;
  threshold: string;
  tp: number;
  fp: number;
  fixedScore: string;
  fixedThreshold: string;
}

function rows(r: NabReport): ScoreRow[] {
  return NAB_PROFILE_NAMES.map((p) => ({
    detector: r.detector,
    profile: p,
    score: r.profiles[p].normalized.toFixed(2),
    threshold: r.profiles[p].threshold.toFixed(4),
    tp: r.profiles[p].truePositives,
    fp: r.profiles[p].falsePositives,
    fixedScore: r.fixed === undefined ? '' : r.fixed.profiles[p].normalized.toFixed(2),
    fixedThreshold: r.fixed === undefined ? '' : r.fixed.threshold.toFixed(4),
  }));
}

const COLUMNS: Column<ScoreRow>[] = [
  { header: 'detector', get: (r) => r.detector },
  { header: 'profile', get: (r) => r.profile },
  { header: 'score', get: (r) => r.score },
  { header: 'threshold', get: (r) => r.threshold },
  { header: 'windows hit', get: (r) => r.tp },
  { header: 'false alarms', get: (r) => r.fp },
  { header: 'fixed-threshold score', get: (r) => r.fixedScore },
  { header: 'at', get: (r) => r.fixedThreshold },
];

function parseThreshold(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1.1)
    throw new Error(`--threshold must be a number in [0, 1.1], got "${value}"`);
  return n;
}

/** `lifeline anomaly nab|score|watch`. */
export function registerAnomaly(program: Command): void {
  const anomaly = program
    .command('anomaly')
    .description('predictive anomaly detection on metric streams (NAB benchmark, Prometheus watch)');

  anomaly
    .command('nab')
    .description('run a detector over NAB-format CSVs and write NAB results files')
    .requiredOption('--data <dir>', 'directory of <category>/<file>.csv (columns timestamp,value)')
    .requiredOption('--windows <json>', 'NAB windows file ({"<category>/<file>.csv": [[start, end], ...]})')
    .requiredOption('--out <dir>', 'results go to <out>/<detector>/<category>/<detector>_<file>.csv')
    .option('--detector <name>', `one of: ${DETECTORS.map((d) => d.kind).join(', ')}`, RECOMMENDED_DETECTOR)
    .option('--seed <n>', 'seed of every random choice', intArg('--seed', 0), 1)
    .addOption(outputOption())
    .action(async (opts) => {
      const factory = detectorFactory(opts.detector);
      const series = await loadNabDir(opts.data);
      const windows = await loadNabWindows(opts.windows);
      const writes: Promise<void>[] = [];
      const byKey = new Map(series.map((s) => [s.key, s]));
      const run = runDetector(factory, series, windows, opts.seed, (key, scores) => {
        const s = byKey.get(key);
        if (s !== undefined)
          writes.push(writeResultsFile(resultsPath(opts.out, factory.kind, key), s, scores, windows));
      });
      await Promise.all(writes);
      const r = report(factory.kind, run.files, factory.alarmLevel);
      const t = run.timing;
      const text = opts.output === 'table' ? render('table', rows(r), COLUMNS) : render(opts.output, r);
      process.stdout.write(`${text}\n`);
      if (opts.output === 'table') {
        process.stdout.write(
          `${series.length} files, ${r.windows} windows; results in ${opts.out}/${factory.kind}; ` +
            `training ${(t.trainPoints / Math.max(t.trainSeconds, 1e-9)).toFixed(0)} points/s, ` +
            `scoring ${(t.scorePoints / Math.max(t.scoreSeconds, 1e-9)).toFixed(0)} points/s\n`,
        );
      }
    });

  anomaly
    .command('score')
    .description('score NAB results files: the three profiles with NAB threshold sweep')
    .requiredOption('--results <dir>', 'directory written by `lifeline anomaly nab --out`')
    .requiredOption('--windows <json>', 'NAB windows file')
    .option('--threshold <t>', 'also score at this fixed threshold (label-free)', parseThreshold)
    .addOption(outputOption())
    .action(async (opts) => {
      const windows = await loadNabWindows(opts.windows);
      const groups = await readResults(opts.results, windows);
      const reports = [...groups].map(([name, files]) => report(name, files, opts.threshold));
      const text =
        opts.output === 'table'
          ? render('table', reports.flatMap(rows), COLUMNS)
          : render(opts.output, reports);
      process.stdout.write(`${text}\n`);
    });
}
