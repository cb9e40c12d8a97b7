import type { NabProfile } from './profiles.ts';

/** A labelled window as inclusive row indices `[left, right]` of one file. */
export interface RowWindow {
  readonly left: number;
  readonly right: number;
}

/** One file ready for scoring: its detector scores (one per row, in file order) and windows. */
export interface ScoredFile {
  readonly name: string;
  readonly scores: ArrayLike<number>;
  readonly windows: readonly RowWindow[];
}

/** NAB's scaled sigmoid: `2/(1+e^{5y}) − 1`, and −1 once `y > 3`. */
export function scaledSigmoid(y: number): number {
  if (y > 3) return -1;
  return 2 / (1 + Math.exp(5 * y)) - 1;
}

/** NAB's probationary period: the first `min(⌊0.15·n⌋, 750)` rows are not scored. */
export function probationaryLength(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750);
}

/**
 * Per-row weights of a file: what each row would earn if it were flagged, and the index of the
 * window it belongs to (−1 outside windows). Windows must be sorted and disjoint.
 */
export function rowWeights(
  rows: number,
  windows: readonly RowWindow[],
  profile: NabProfile,
): { weight: Float64Array; window: Int32Array } {
  const weight = new Float64Array(rows);
  const window = new Int32Array(rows).fill(-1);
  const maxTp = scaledSigmoid(-1);
  let prevRight = -1;
  let prevWidth = 0;
  let w = 0;
  for (let i = 0; i < rows; i++) {
    const cur = windows[w];
    if (cur !== undefined && i >= cur.left && i <= cur.right) {
      const width = cur.right - cur.left + 1;
      const y = -(cur.right - i + 1) / width;
      weight[i] = (scaledSigmoid(y) * profile.tp) / maxTp;
      window[i] = w;
      if (i === cur.right) {
        prevRight = cur.right;
        prevWidth = width;
        w++;
      }
      continue;
    }
    if (prevRight < 0) {
      weight[i] = -profile.fp;
    } else {
      // A one-row window has width − 1 = 0: NAB divides by zero there, which gives +inf → −1.
      const y = prevWidth > 1 ? Math.abs(prevRight - i) / (prevWidth - 1) : Number.POSITIVE_INFINITY;
      weight[i] = scaledSigmoid(y) * profile.fp;
    }
  }
  return { weight, window };
}

/** The raw (unnormalized) NAB score of one file when exactly the rows in `flagged` are flagged. */
export function rawScore(
  rows: number,
  windows: readonly RowWindow[],
  flagged: Iterable<number>,
  profile: NabProfile,
  probation = 0,
): number {
  const { weight, window } = rowWeights(rows, windows, profile);
  const best = new Float64Array(windows.length).fill(Number.NaN);
  let fp = 0;
  for (const i of flagged) {
    if (i < probation || i < 0 || i >= rows) continue;
    const win = window[i] ?? -1;
    const s = weight[i] ?? 0;
    if (win < 0) fp += s;
    else if (Number.isNaN(best[win] ?? Number.NaN) || s > (best[win] ?? 0)) best[win] = s;
  }
  let total = fp;
  for (const b of best) total += Number.isNaN(b) ? -profile.fn : b;
  return total;
}

/** The result of NAB's threshold sweep over a set of files for one profile. */
export interface SweepResult {
  /** Best threshold: rows with `score >= threshold` are flagged. */
  readonly threshold: number;
  /** Raw score at that threshold. */
  readonly raw: number;
  /** `100·(raw − null)/(perfect − null)`. */
  readonly normalized: number;
  /** Windows in the files scored. */
  readonly windows: number;
  /** Counts at the best threshold. */
  readonly truePositives: number;
  readonly falsePositives: number;
}

interface Point {
  score: number;
  weight: number;
  /** Global window id, or −1. */
  window: number;
}

function collectPoints(
  files: readonly ScoredFile[],
  profile: NabProfile,
): { points: Point[]; windows: number } {
  const points: Point[] = [];
  let windows = 0;
  for (const f of files) {
    const n = f.scores.length;
    const { weight, window } = rowWeights(n, f.windows, profile);
    const start = probationaryLength(n);
    for (let i = start; i < n; i++) {
      const win = window[i] ?? -1;
      points.push({ score: f.scores[i] ?? 0, weight: weight[i] ?? 0, window: win < 0 ? -1 : windows + win });
    }
    windows += f.windows.length;
  }
  return { points, windows };
}

function normalize(raw: number, windows: number, profile: NabProfile): number {
  const perfect = profile.tp * windows;
  const nul = -profile.fn * windows;
  if (perfect === nul) return 0;
  return (100 * (raw - nul)) / (perfect - nul);
}

/**
 * NAB's sweep: one threshold for all files, tried at every distinct score from 1.1 (flag
 * nothing) downward; returns the best. Probationary rows are dropped. Ties keep the higher
 * threshold (NAB's order).
 */
export function sweep(files: readonly ScoredFile[], profile: NabProfile): SweepResult {
  const { points, windows } = collectPoints(files, profile);
  points.sort((a, b) => b.score - a.score);
  const best = new Float64Array(windows).fill(Number.NaN);
  let tpSum = 0;
  let fpSum = 0;
  let detected = 0;
  let fpCount = 0;
  const current = (): number => tpSum + fpSum - profile.fn * (windows - detected);
  let result = { threshold: 1.1, raw: current(), tp: 0, fp: 0 };
  let i = 0;
  while (i < points.length) {
    const threshold = points[i]?.score ?? 0;
    // Flag every row at this score before evaluating: a threshold flags all rows >= it.
    while (i < points.length && (points[i]?.score ?? 0) === threshold) {
      const p = points[i] as Point;
      if (p.window < 0) {
        fpSum += p.weight;
        fpCount++;
      } else {
        const prev = best[p.window] ?? Number.NaN;
        if (Number.isNaN(prev)) {
          best[p.window] = p.weight;
          tpSum += p.weight;
          detected++;
        } else if (p.weight > prev) {
          best[p.window] = p.weight;
          tpSum += p.weight - prev;
        }
      }
      i++;
    }
    const raw = current();
    if (raw > result.raw) result = { threshold, raw, tp: detected, fp: fpCount };
  }
  return {
    threshold: result.threshold,
    raw: result.raw,
    normalized: normalize(result.raw, windows, profile),
    windows,
    truePositives: result.tp,
    falsePositives: result.fp,
  };
}

/** The NAB score of a set of files at one fixed threshold (rows with `score >= threshold`). */
export function scoreAtThreshold(
  files: readonly ScoredFile[],
  profile: NabProfile,
  threshold: number,
): SweepResult {
  let raw = 0;
  let windows = 0;
  let tp = 0;
  let fp = 0;
  for (const f of files) {
    const n = f.scores.length;
    const start = probationaryLength(n);
    const flagged: number[] = [];
    for (let i = start; i < n; i++) if ((f.scores[i] ?? 0) >= threshold) flagged.push(i);
    raw += rawScore(n, f.windows, flagged, profile, start);
    windows += f.windows.length;
    const { window } = rowWeights(n, f.windows, profile);
    const hit = new Set<number>();
    for (const i of flagged) {
      const w = window[i] ?? -1;
      if (w < 0) fp++;
      else hit.add(w);
    }
    tp += hit.size;
  }
  return {
    threshold,
    raw,
    normalized: normalize(raw, windows, profile),
    windows,
    truePositives: tp,
    falsePositives: fp,
  };
}
