import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../src/kube/index.ts';

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap, and starts over after reset()', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    assert.deepEqual(
      Array.from({ length: 6 }, () => b.next()),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(b.attempts, 6);
    b.reset();
    assert.equal(b.next(), 100);
  });

  it('adds at most the jitter fraction and never exceeds the cap', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 1100, jitter: 0.5 });
    for (let i = 0; i < 200; i++) {
      const d = b.next();
      assert.ok(d >= 1000 && d <= 1100, `delay ${d}`);
    }
    const first = Array.from({ length: 100 }, () => new Backoff({ initialMs: 100, jitter: 0.2 }).next());
    assert.ok(first.every((d) => d >= 100 && d <= 120));
    assert.ok(new Set(first).size > 1, 'jitter spreads restarts');
  });
});
