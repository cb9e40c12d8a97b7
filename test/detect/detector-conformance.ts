import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DetectorFactory } from '../../src/detect/anomaly/detector.ts';

/** A daily-ish wave with noise and one large spike at `spikeAt`. Deterministic. */
export function syntheticSeries(n: number, spikeAt: number): { times: number[]; values: number[] } {
  const times: number[] = [];
  const values: number[] = [];
  let s = 12345;
  const noise = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  const start = Date.UTC(2024, 0, 1);
  for (let i = 0; i < n; i++) {
    times.push(start + i * 300_000);
    values.push(50 + 10 * Math.sin((2 * Math.PI * i) / 48) + 2 * noise() + (i === spikeAt ? 60 : 0));
  }
  return { times, values };
}

/**
 * The shared Detector conformance suite (the hono `common.case.test.ts` pattern): every
 * registered detector must pass it.
 */
export function detectorConformance(factory: DetectorFactory): void {
  const probation = 150;
  const n = 500;
  const spikeAt = 400;
  const { times, values } = syntheticSeries(n, spikeAt);
  const runAll = (seed = 1): number[] => {
    const d = factory.create({ probation, seed });
    return values.map((v, i) => d.update(times[i] ?? 0, v));
  };

  describe(`Detector conformance: ${factory.kind}`, () => {
    const scores = runAll();

    it('returns a finite score in [0, 1] for every record, 0 during warm-up', () => {
      for (const s of scores) assert.ok(Number.isFinite(s) && s >= 0 && s <= 1, `score ${s}`);
      for (let i = 0; i < probation; i++) assert.equal(scores[i], 0);
    });

    it('responds to the injected spike: its highest live score comes within 10 records of it', () => {
      // Detectors that average errors (the likelihood layer) peak a few records after a spike.
      const near = Math.max(...scores.slice(spikeAt, spikeAt + 10));
      const others = scores.filter((_, i) => i >= probation && (i < spikeAt || i >= spikeAt + 10));
      assert.ok(near > Math.max(...others), `near the spike ${near} vs elsewhere ${Math.max(...others)}`);
    });

    it('is deterministic for a seed', () => {
      assert.deepEqual(runAll(), scores);
    });

    it('resumes from a JSON round-trip of its state with identical scores', () => {
      for (const cut of [probation - 1, probation + 60]) {
        const d = factory.create({ probation, seed: 1 });
        for (let i = 0; i < cut; i++) d.update(times[i] ?? 0, values[i] ?? 0);
        const restored = factory.restore(JSON.parse(JSON.stringify(d.save())) as ReturnType<typeof d.save>);
        assert.equal(restored.kind, factory.kind);
        const rest = values.slice(cut).map((v, k) => restored.update(times[cut + k] ?? 0, v));
        assert.deepEqual(rest, scores.slice(cut), `after a restore at record ${cut}`);
      }
    });

    it('rejects a state saved by another kind, saying what to do', () => {
      assert.throws(
        () => factory.restore({ kind: 'someone-else', version: 1, data: {} }),
        (err: Error & { fix?: string }) => err.name === 'LifelineError' && (err.fix ?? '').length > 0,
      );
    });
  });
}
