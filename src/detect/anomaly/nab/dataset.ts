import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { LifelineError } from '../../../core/errors.ts';
import type { RowWindow } from './scorer.ts';

/** One NAB data file: rows in file order. */
export interface NabSeries {
  /** `<category>/<file>.csv`, the key used in the windows file. */
  readonly key: string;
  /** Timestamps as written in the file. */
  readonly timestamps: readonly string[];
  /** Timestamps as epoch milliseconds (UTC). */
  readonly times: Float64Array;
  readonly values: Float64Array;
}

/** Windows per file key, as `[start, end]` timestamp strings (NAB `combined_windows.json`). */
export type NabWindows = Readonly<Record<string, readonly (readonly [string, string])[]>>;

/** Parses a NAB timestamp (`YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC) into epoch milliseconds. */
export function parseNabTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?/.exec(text.trim());
  if (m === null) {
    throw new LifelineError('nab.timestamp', `cannot parse timestamp "${text}"`, {
      fix: 'NAB timestamps look like 2014-04-10 07:15:00',
    });
  }
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = frac === undefined ? 0 : Math.round(Number(`0.${frac}`) * 1000);
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
}

/** Parses a NAB CSV (`timestamp,value` header, then one row per line). */
export function parseNabCsv(key: string, text: string): NabSeries {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header =
    lines
      .shift()
      ?.split(',')
      .map((s) => s.trim()) ?? [];
  const ti = header.indexOf('timestamp');
  const vi = header.indexOf('value');
  if (ti < 0 || vi < 0) {
    throw new LifelineError('nab.csv', 'CSV has no timestamp and value columns', {
      where: key,
      fix: 'the first line must name the columns, e.g. "timestamp,value"',
    });
  }
  const timestamps: string[] = [];
  const times = new Float64Array(lines.length);
  const values = new Float64Array(lines.length);
  lines.forEach((line, i) => {
    const cells = line.split(',');
    const ts = cells[ti]?.trim() ?? '';
    const v = Number(cells[vi]);
    if (!Number.isFinite(v)) {
      throw new LifelineError('nab.csv', `row ${i + 2} has a non-numeric value "${cells[vi] ?? ''}"`, {
        where: key,
        fix: 'every value must be a number',
      });
    }
    timestamps.push(ts);
    times[i] = parseNabTime(ts);
    values[i] = v;
  });
  return { key, timestamps, times, values };
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

/** Loads every CSV under `dir` (categories as subfolders), sorted by key. */
export async function loadNabDir(dir: string): Promise<NabSeries[]> {
  let files: string[];
  try {
    files = await walkCsv(dir);
  } catch (err) {
    throw new LifelineError('nab.data', `cannot read the data directory: ${(err as Error).message}`, {
      where: dir,
      fix: 'pass --data <dir> holding <category>/<file>.csv',
      cause: err,
    });
  }
  if (files.length === 0) {
    throw new LifelineError('nab.data', 'no CSV files found', {
      where: dir,
      fix: 'pass the NAB data directory',
    });
  }
  files.sort();
  const series: NabSeries[] = [];
  for (const f of files) {
    const key = relative(dir, f).split(sep).join('/');
    series.push(parseNabCsv(key, await readFile(f, 'utf8')));
  }
  return series;
}

/** Loads a windows JSON file (`{"<category>/<file>.csv": [[start, end], ...]}`). */
export async function loadNabWindows(file: string): Promise<NabWindows> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new LifelineError('nab.windows', `cannot read the windows file: ${(err as Error).message}`, {
      where: file,
      fix: 'pass --windows <json> in NAB combined_windows.json format',
      cause: err,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new LifelineError('nab.windows', 'the windows file is not a JSON object', {
      where: file,
      fix: 'expected {"<category>/<file>.csv": [["start", "end"], ...]}',
    });
  }
  const out: Record<string, (readonly [string, string])[]> = {};
  for (const [key, list] of Object.entries(parsed)) {
    if (!Array.isArray(list)) {
      throw new LifelineError('nab.windows', `windows of ${key} are not a list`, { where: file });
    }
    out[key] = list.map((w: unknown) => {
      if (!Array.isArray(w) || w.length !== 2 || typeof w[0] !== 'string' || typeof w[1] !== 'string') {
        throw new LifelineError('nab.windows', `a window of ${key} is not a [start, end] pair`, {
          where: file,
        });
      }
      return [w[0], w[1]] as const;
    });
  }
  return out;
}

/**
 * Converts timestamp windows to row windows: a window starts at the first row whose time is at or
 * after its start and runs over the following rows while their time is at or before its end.
 */
export function windowRows(
  times: ArrayLike<number>,
  windows: readonly (readonly [string, string])[],
): RowWindow[] {
  const out: RowWindow[] = [];
  for (const [startText, endText] of windows) {
    const start = parseNabTime(startText);
    const end = parseNabTime(endText);
    let left = -1;
    for (let i = 0; i < times.length; i++) {
      if ((times[i] ?? 0) >= start) {
        left = i;
        break;
      }
    }
    if (left < 0 || (times[left] ?? 0) > end) continue;
    let right = left;
    while (right + 1 < times.length && (times[right + 1] ?? 0) <= end) right++;
    out.push({ left, right });
  }
  out.sort((a, b) => a.left - b.left);
  return out;
}
