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

  it('shortens by at most the jitter fraction, never exceeds the cap, and spreads even at the cap', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 1100, jitter: 0.5 });
    const delays = Array.from({ length: 200 }, () => b.next());
    assert.ok(
      delays.every((d) => d >= 500 && d <= 1100),
      `delays ${delays.join(',')}`,
    );
    assert.ok(new Set(delays.slice(1)).size > 10, 'spread at the cap');
    const first = Array.from({ length: 100 }, () => new Backoff({ initialMs: 100, jitter: 0.2 }).next());
    assert.ok(first.every((d) => d >= 80 && d <= 100));
    assert.ok(new Set(first).size > 1, 'jitter spreads restarts');
  });
});
