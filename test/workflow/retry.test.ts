import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LifelineError } from '../../src/core/errors.ts';
import {
  NonRetryableError,
  isNonRetryable,
  nextRetry,
  resolveRetryPolicy,
  retryDelayMs,
} from '../../src/workflow/index.ts';

describe('retry policy', () => {
  it('applies the documented defaults', () => {
    assert.deepEqual(resolveRetryPolicy(), {
      initialIntervalMs: 1000,
      backoffCoefficient: 2,
      maximumIntervalMs: 100_000,
      maximumAttempts: 3,
      nonRetryable: [],
    });
    assert.equal(resolveRetryPolicy({ initialIntervalMs: 50 }).maximumIntervalMs, 5000);
  });

  it('backs off exponentially up to the maximum interval', () => {
    const p = resolveRetryPolicy({
      initialIntervalMs: 100,
      backoffCoefficient: 3,
      maximumIntervalMs: 1000,
      maximumAttempts: 0,
    });
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => retryDelayMs(p, n)),
      [100, 300, 900, 1000, 1000],
    );
    assert.equal(nextRetry(p, new Error('x'), 1000), 1000, 'maximumAttempts 0 retries forever');
  });

  it('stops after maximumAttempts attempts and on non-retryable errors', () => {
    const p = resolveRetryPolicy({ maximumAttempts: 2, nonRetryable: ['E_FATAL', 'TypeError'] });
    assert.equal(nextRetry(p, new Error('x'), 1), 1000);
    assert.equal(nextRetry(p, new Error('x'), 2), undefined);
    assert.equal(nextRetry(p, new LifelineError('E_FATAL', 'no'), 1), undefined);
    assert.equal(nextRetry(p, new TypeError('no'), 1), undefined);
    assert.equal(isNonRetryable(p, new NonRetryableError('stop')), true);
    assert.equal(isNonRetryable(p, new LifelineError('workflow.approval-denied', 'denied')), true);
    assert.equal(isNonRetryable(p, 'a string'), false);
    assert.equal(resolveRetryPolicy({ maximumAttempts: 1 }).maximumAttempts, 1);
    assert.equal(nextRetry(resolveRetryPolicy({ maximumAttempts: 1 }), new Error('x'), 1), undefined);
  });

  it('rejects invalid values with the field and a fix', () => {
    const cases: [object, string][] = [
      [{ initialIntervalMs: -1 }, 'initialIntervalMs'],
      [{ backoffCoefficient: 0.5 }, 'backoffCoefficient'],
      [{ initialIntervalMs: 100, maximumIntervalMs: 10 }, 'maximumIntervalMs'],
      [{ maximumAttempts: 1.5 }, 'maximumAttempts'],
    ];
    for (const [policy, field] of cases) {
      assert.throws(
        () => resolveRetryPolicy(policy, 'step x'),
        (err: unknown) =>
          err instanceof LifelineError &&
          err.code === 'workflow.retry-policy' &&
          err.where === `step x: ${field}` &&
          err.fix !== undefined,
      );
    }
  });
});
