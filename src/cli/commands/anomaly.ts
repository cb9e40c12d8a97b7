import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from '@commander-js/extra-typings';
import { LifelineError, createLogger, loadConfigFile } from '../../core/index.ts';
import { AnomalyWatcher, type WatchQuery } from '../../detect/anomaly/watch.ts';
import {
  FileModelStateStore,
  ObjectStoreModelStateStore,
  type ModelStateStore,
} from '../../detect/anomaly/state-store.ts';
import type { ObjectStore } from '../../objectstore/index.ts';
import { jsonLinesSink } from '../../signals/signal.ts';
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

function parseQuery(value: string, previous: WatchQuery[] = []): WatchQuery[] {
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1) {
    throw new LifelineError('cli.query', `--query "${value}" is not name=<PromQL>`, {
      where: '--query',
      fix: "write it as name=expression, e.g. --query 'latency=histogram_quantile(0.99, rate(x[5m]))'",
    });
  }
  return [...previous, { name: value.slice(0, eq), query: value.slice(eq + 1) }];
}

function parseLevel(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1)
    throw new Error(`--level must be a number in (0, 1], got "${value}"`);
  return n;
}

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

  anomaly
    .command('watch')
    .description('follow PromQL queries, score every series, export lifeline_anomaly_score, print signals')
    .requiredOption('--prometheus <url>', 'Prometheus base URL, e.g. http://127.0.0.1:9090')
    .requiredOption('--query <name=promql>', 'a query to follow (repeatable)', parseQuery)
    .option('--step <sec>', 'query resolution in seconds (one record per step)', intArg('--step', 1), 15)
    .option('--interval <sec>', 'seconds between polls (default: --step)', intArg('--interval', 1))
    .option('--detector <name>', `one of: ${DETECTORS.map((d) => d.kind).join(', ')}`, RECOMMENDED_DETECTOR)
    .option(
      '--probation <n>',
      'records to warm up and train on before scoring',
      intArg('--probation', 2),
      750,
    )
    .option(
      '--level <score>',
      "score that raises a candidate anomaly (default: the detector's alarm level)",
      parseLevel,
    )
    .option('--corroborator <name>', 'second detector that must agree, or "none"', 'median-mad')
    .option('--state-dir <dir>', 'keep per-series models in this folder', '.lifeline/anomaly')
    .option('-c, --config <file>', "keep models in the configuration's objectStore instead of --state-dir")
    .option('--metrics-port <port>', 'serve /metrics on 127.0.0.1:<port>', intArg('--metrics-port', 0))
    .action(async (opts) => {
      const logger = createLogger({});
      let objectStore: ObjectStore | undefined;
      let store: ModelStateStore;
      if (opts.config !== undefined) {
        const config = await loadConfigFile(opts.config);
        // The object store (AWS SDK) loads on use, keeping other commands fast.
        const { openObjectStore } = await import('../../objectstore/index.ts');
        objectStore = await openObjectStore(config.objectStore);
        store = new ObjectStoreModelStateStore(objectStore, opts.detector);
      } else {
        store = new FileModelStateStore(opts.stateDir);
      }
      const watcher = new AnomalyWatcher({
        prometheusUrl: opts.prometheus,
        queries: opts.query,
        stepSec: opts.step,
        intervalSec: opts.interval ?? opts.step,
        detector: opts.detector,
        detectorOptions: { probation: opts.probation },
        ...(opts.level === undefined ? {} : { level: opts.level }),
        corroborator: opts.corroborator === 'none' ? null : opts.corroborator,
        store,
        sink: jsonLinesSink(process.stdout),
        logger,
      });
      const metrics =
        opts.metricsPort === undefined
          ? undefined
          : createServer((req, res) => {
              if (req.url !== '/metrics') {
                res.statusCode = 404;
                res.end('not found\n');
                return;
              }
              void watcher.registry.metrics().then((text) => {
                res.setHeader('content-type', watcher.registry.contentType);
                res.end(text);
              });
            });
      if (metrics !== undefined) {
        await new Promise<void>((resolve) => metrics.listen(opts.metricsPort, '127.0.0.1', resolve));
        const port = (metrics.address() as AddressInfo).port;
        logger.info({ url: `http://127.0.0.1:${port}/metrics` }, 'anomaly metrics listening');
      }
      const abort = new AbortController();
      const stop = (sig: NodeJS.Signals): void => {
        logger.info({ signal: sig }, 'stopping anomaly watch');
        abort.abort();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await watcher.run(abort.signal);
      metrics?.close();
      await objectStore?.close();
    });
}
