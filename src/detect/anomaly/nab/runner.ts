import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { LifelineError } from '../../../core/errors.ts';
import type { DetectorFactory } from '../detector.ts';
import { windowRows, parseNabTime, type NabSeries, type NabWindows } from './dataset.ts';
import { NAB_PROFILES, NAB_PROFILE_NAMES, type NabProfileName } from './profiles.ts';
import { probationaryLength, scoreAtThreshold, sweep, type ScoredFile, type SweepResult } from './scorer.ts';

/** Timing of a detector run over a set of files. */
export interface RunTiming {
  /** Records in the probationary periods (warm-up and training). */
  readonly trainPoints: number;
  readonly trainSeconds: number;
  /** Records after the probationary periods (live scoring). */
  readonly scorePoints: number;
  readonly scoreSeconds: number;
}

/** Scores of one run, in memory. */
export interface DetectorRun {
  readonly detector: string;
  readonly files: ScoredFile[];
  readonly timing: RunTiming;
}

/**
 * Runs a fresh detector per file, streaming each row in file order (NAB rules: no look-ahead,
 * probationary period `min(⌊0.15·n⌋, 750)` given to the detector as its warm-up).
 */
export function runDetector(
  factory: DetectorFactory,
  series: readonly NabSeries[],
  windows: NabWindows,
  seed = 1,
  onFile?: (key: string, scores: Float64Array) => void,
): DetectorRun {
  const files: ScoredFile[] = [];
  let trainPoints = 0;
  let trainMs = 0;
  let scorePoints = 0;
  let scoreMs = 0;
  for (const s of series) {
    const n = s.values.length;
    const probation = probationaryLength(n);
    const detector = factory.create({ probation, seed });
    const scores = new Float64Array(n);
    let t0 = performance.now();
    for (let i = 0; i < probation; i++) scores[i] = detector.update(s.times[i] ?? 0, s.values[i] ?? 0);
    let t1 = performance.now();
    trainMs += t1 - t0;
    trainPoints += probation;
    t0 = t1;
    for (let i = probation; i < n; i++) scores[i] = detector.update(s.times[i] ?? 0, s.values[i] ?? 0);
    t1 = performance.now();
    scoreMs += t1 - t0;
    scorePoints += n - probation;
    files.push({ name: s.key, scores, windows: windowRows(s.times, windows[s.key] ?? []) });
    onFile?.(s.key, scores);
  }
  return {
    detector: factory.kind,
    files,
    timing: { trainPoints, trainSeconds: trainMs / 1000, scorePoints, scoreSeconds: scoreMs / 1000 },
  };
}

/** Path of a NAB results file: `<out>/<name>/<category>/<name>_<file>.csv`. */
export function resultsPath(outDir: string, detector: string, key: string): string {
  const parts = key.split('/');
  const file = parts.pop() ?? key;
  return join(outDir, detector, ...parts, `${detector}_${file}`);
}

/** Writes one NAB results file (`timestamp,value,anomaly_score,label`, label 1 inside windows). */
export async function writeResultsFile(
  path: string,
  series: NabSeries,
  scores: ArrayLike<number>,
  windows: NabWindows,
): Promise<void> {
  const label = new Uint8Array(series.values.length);
  for (const w of windowRows(series.times, windows[series.key] ?? [])) label.fill(1, w.left, w.right + 1);
  const lines = ['timestamp,value,anomaly_score,label'];
  for (let i = 0; i < series.values.length; i++) {
    lines.push(`${series.timestamps[i] ?? ''},${series.values[i] ?? 0},${scores[i] ?? 0},${label[i] ?? 0}`);
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${lines.join('\n')}\n`);
}

/** The three profile scores of a set of files, plus one fixed-threshold score per profile. */
export interface NabReport {
  readonly detector: string;
  readonly files: number;
  readonly windows: number;
  readonly profiles: Record<NabProfileName, SweepResult>;
  readonly fixed?: { readonly threshold: number; readonly profiles: Record<NabProfileName, SweepResult> };
}

/** Sweeps every profile (and scores at `fixedThreshold` when given). */
export function report(detector: string, files: readonly ScoredFile[], fixedThreshold?: number): NabReport {
  const profiles = {} as Record<NabProfileName, SweepResult>;
  for (const p of NAB_PROFILE_NAMES) profiles[p] = sweep(files, NAB_PROFILES[p]);
  const base = {
    detector,
    files: files.length,
    windows: files.reduce((s, f) => s + f.windows.length, 0),
    profiles,
  };
  if (fixedThreshold === undefined) return base;
  const fixed = {} as Record<NabProfileName, SweepResult>;
  for (const p of NAB_PROFILE_NAMES) fixed[p] = scoreAtThreshold(files, NAB_PROFILES[p], fixedThreshold);
  return { ...base, fixed: { threshold: fixedThreshold, profiles: fixed } };
}

async function walkCsv(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walkCsv(p)));
    else if (entry.name.endsWith('.csv')) out.push(p);
  }
  return out;
}

/**
 * Reads NAB results files under `dir` — either `<dir>/<name>/<category>/<name>_<file>.csv`
 * (several detectors) or `<dir>/<category>/<name>_<file>.csv` (one) — grouped by detector.
 * Each file is matched to its windows key `<category>/<file>.csv`.
 */
export async function readResults(dir: string, windows: NabWindows): Promise<Map<string, ScoredFile[]>> {
  let paths: string[];
  try {
    paths = (await walkCsv(dir)).sort();
  } catch (err) {
    throw new LifelineError('nab.results', `cannot read the results directory: ${(err as Error).message}`, {
      where: dir,
      fix: 'pass --results <dir> written by `lifeline anomaly nab --out <dir>`',
      cause: err,
    });
  }
  if (paths.length === 0) {
    throw new LifelineError('nab.results', 'no results CSV files found', {
      where: dir,
      fix: 'run `lifeline anomaly nab --out <dir>` first',
    });
  }
  const groups = new Map<string, ScoredFile[]>();
  for (const path of paths) {
    const parts = relative(dir, path).split(sep);
    const file = parts.pop() ?? '';
    const category = parts.pop() ?? '';
    const group = parts[0] ?? file.slice(0, Math.max(0, file.indexOf('_')));
    const key = Object.keys(windows).find((k) => {
      const [cat, name] = k.split('/');
      return cat === category && name !== undefined && file.endsWith(`_${name}`);
    });
    if (key === undefined) {
      throw new LifelineError('nab.results', `results file ${file} matches no file in the windows file`, {
        where: path,
        fix: 'name results files <detector>_<file>.csv under <category>/ and pass the matching --windows',
      });
    }
    const scored = parseResultsCsv(key, await readFile(path, 'utf8'), windows, path);
    const list = groups.get(group) ?? [];
    list.push(scored);
    groups.set(group, list);
  }
  return groups;
}

function parseResultsCsv(key: string, text: string, windows: NabWindows, path: string): ScoredFile {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines.shift()?.split(',') ?? [];
  const ti = header.indexOf('timestamp');
  const si = header.indexOf('anomaly_score');
  if (ti < 0 || si < 0) {
    throw new LifelineError('nab.results', 'results file has no timestamp and anomaly_score columns', {
      where: path,
      fix: 'columns must be timestamp,value,anomaly_score,label',
    });
  }
  const times = new Float64Array(lines.length);
  const scores = new Float64Array(lines.length);
  lines.forEach((line, i) => {
    const cells = line.split(',');
    times[i] = parseNabTime(cells[ti] ?? '');
    scores[i] = Number(cells[si]);
  });
  return { name: key, scores, windows: windowRows(times, windows[key] ?? []) };
}
