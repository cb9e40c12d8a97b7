import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadNabDir, loadNabWindows, windowRows } from '../../src/detect/anomaly/nab/dataset.ts';
import { NAB_PROFILES } from '../../src/detect/anomaly/nab/profiles.ts';
import {
  probationaryLength,
  rawScore,
  scaledSigmoid,
  scoreAtThreshold,
  sweep,
  type ScoredFile,
} from '../../src/detect/anomaly/nab/scorer.ts';

const NAB = '/work/shared/datasets/nab';
const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

describe('NAB scorer: the unit cases of issue 5', () => {
  // 100-row file, one window on rows 60–70, standard profile, no probation, one flag.
  const cases: [number, number][] = [
    [60, 1.0],
    [70, 0.2265],
    [71, -1.0269],
    [81, -1.1091],
    [20, -1.11],
  ];
  for (const [row, expected] of cases) {
    it(`a flag at row ${row} scores ${expected}`, () => {
      const s = rawScore(100, [{ left: 60, right: 70 }], [row], NAB_PROFILES.standard);
      assert.equal(round4(s), expected);
    });
  }

  it('only the earliest flag of a window counts, later ones in it are free', () => {
    const one = rawScore(100, [{ left: 60, right: 70 }], [62], NAB_PROFILES.standard);
    const many = rawScore(100, [{ left: 60, right: 70 }], [62, 63, 69, 70], NAB_PROFILES.standard);
    assert.equal(many, one);
  });

  it('the sigmoid is −1 beyond y = 3 and 0 at the window edge', () => {
    assert.equal(scaledSigmoid(3.01), -1);
    assert.equal(scaledSigmoid(0), 0);
  });

  it('probation is min(⌊0.15·n⌋, 750)', () => {
    assert.equal(probationaryLength(1000), 150);
    assert.equal(probationaryLength(4032), 604);
    assert.equal(probationaryLength(22695), 750);
  });
});

describe('NAB scorer on the dev subset', async () => {
  const series = await loadNabDir(`${NAB}/data`);
  const windows = await loadNabWindows(`${NAB}/labels/dev_windows.json`);
  const withWindows = (
    scoreOf: (n: number, w: ReturnType<typeof windowRows>) => Float64Array,
  ): ScoredFile[] =>
    series.map((s) => {
      const w = windowRows(s.times, windows[s.key] ?? []);
      return { name: s.key, windows: w, scores: scoreOf(s.values.length, w) };
    });

  it('reads 35 files and 55 windows, every window after probation', () => {
    assert.equal(series.length, 35);
    let count = 0;
    for (const s of series) {
      const w = windowRows(s.times, windows[s.key] ?? []);
      assert.equal(w.length, (windows[s.key] ?? []).length, s.key);
      for (const win of w)
        assert.ok(win.left <= win.right && win.left >= probationaryLength(s.values.length));
      count += w.length;
    }
    assert.equal(count, 55);
  });

  it('a perfect detector scores 100 on every profile, the null detector 0', () => {
    const perfect = withWindows((n, w) => {
      const a = new Float64Array(n);
      for (const win of w) a[win.left] = 1;
      return a;
    });
    const nul = withWindows((n) => new Float64Array(n));
    for (const p of Object.values(NAB_PROFILES)) {
      assert.equal(round4(sweep(perfect, p).normalized), 100);
      assert.equal(sweep(nul, p).normalized, 0);
    }
  });

  it('late detections earn less, and the sweep finds the threshold that drops false alarms', () => {
    const lateAndNoisy = withWindows((n, w) => {
      const a = new Float64Array(n);
      for (const win of w) a[win.right] = 0.9;
      // A low-scored false alarm right after probation in every file.
      a[probationaryLength(n)] = 0.5;
      return a;
    });
    const r = sweep(lateAndNoisy, NAB_PROFILES.standard);
    assert.equal(r.threshold, 0.9);
    assert.equal(r.truePositives, 55);
    assert.equal(r.falsePositives, 0);
    assert.ok(r.normalized > 50 && r.normalized < 70, `late detections scored ${r.normalized}`);
    const all = scoreAtThreshold(lateAndNoisy, NAB_PROFILES.standard, 0.5);
    assert.equal(all.falsePositives, 35);
    assert.ok(all.normalized < r.normalized);
    // The fixed-threshold score at the swept threshold is the swept score.
    assert.equal(
      round4(scoreAtThreshold(lateAndNoisy, NAB_PROFILES.standard, 0.9).normalized),
      round4(r.normalized),
    );
  });
});
