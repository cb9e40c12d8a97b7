import { LifelineError } from '../core/errors.ts';

/**
 * How a failed step is retried (Temporal's RetryPolicy, in milliseconds). Every field is
 * optional; the defaults are stated per field. The n-th retry waits
 * `min(initialIntervalMs × backoffCoefficient^(n-1), maximumIntervalMs)`.
 */
export interface RetryPolicy {
  /** Delay before the first retry, in ms. Default `1000`. */
  initialIntervalMs?: number;
  /** Each retry waits this many times longer than the previous one; ≥ 1. Default `2`. */
  backoffCoefficient?: number;
  /** Upper bound of one delay, in ms; ≥ initialIntervalMs. Default `100 × initialIntervalMs`. */
  maximumIntervalMs?: number;
  /**
   * Attempts in total, the first one included: `1` disables retries, `0` means unlimited.
   * Default `3`. Attempts cut short by a crash or a lost lease do not count.
   */
  maximumAttempts?: number;
  /**
   * Error codes (`LifelineError.code`, errno codes such as `ENOENT`) or error names that
   * fail the step at once. Default `[]`. Whatever is listed here, a {@link NonRetryableError},
   * a denied or expired approval and a non-JSON step result never retry.
   */
  nonRetryable?: readonly string[];
}

/** A {@link RetryPolicy} with every default applied and validated. */
export type ResolvedRetryPolicy = Required<RetryPolicy>;

/** Throw this from a step to fail it without retrying, whatever its policy says. */
export class NonRetryableError extends Error {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'NonRetryableError';
  }
}

/** Codes that never retry: retrying cannot change their outcome. */
export const ALWAYS_NON_RETRYABLE: readonly string[] = [
  'workflow.approval-denied',
  'workflow.approval-expired',
  'workflow.step-output',
];

/** Applies the defaults and validates once; `where` names the step in errors. */
export function resolveRetryPolicy(policy: RetryPolicy = {}, where = 'retry policy'): ResolvedRetryPolicy {
  const initialIntervalMs = policy.initialIntervalMs ?? 1000;
  const backoffCoefficient = policy.backoffCoefficient ?? 2;
  const maximumIntervalMs = policy.maximumIntervalMs ?? 100 * initialIntervalMs;
  const maximumAttempts = policy.maximumAttempts ?? 3;
  const bad = (field: string, rule: string, value: unknown): LifelineError =>
    new LifelineError(
      'workflow.retry-policy',
      `invalid retry policy: ${field} must be ${rule}, got ${String(value)}`,
      {
        where: `${where}: ${field}`,
        fix: `set ${field} to ${rule} (or leave it out for the default)`,
      },
    );
  if (!Number.isFinite(initialIntervalMs) || initialIntervalMs < 0) {
    throw bad('initialIntervalMs', 'a number ≥ 0', initialIntervalMs);
  }
  if (!Number.isFinite(backoffCoefficient) || backoffCoefficient < 1) {
    throw bad('backoffCoefficient', 'a number ≥ 1', backoffCoefficient);
  }
  if (!Number.isFinite(maximumIntervalMs) || maximumIntervalMs < initialIntervalMs) {
    throw bad('maximumIntervalMs', `a number ≥ initialIntervalMs (${initialIntervalMs})`, maximumIntervalMs);
  }
  if (!Number.isInteger(maximumAttempts) || maximumAttempts < 0) {
    throw bad('maximumAttempts', 'an integer ≥ 0', maximumAttempts);
  }
  return {
    initialIntervalMs,
    backoffCoefficient,
    maximumIntervalMs,
    maximumAttempts,
    nonRetryable: [...(policy.nonRetryable ?? [])],
  };
}

/** The delay before the retry that follows failure number `failures` (1-based). */
export function retryDelayMs(policy: ResolvedRetryPolicy, failures: number): number {
  const raw = policy.initialIntervalMs * policy.backoffCoefficient ** Math.max(0, failures - 1);
  return Math.min(raw, policy.maximumIntervalMs);
}

/** True when the policy or the error's kind forbids retrying it. */
export function isNonRetryable(policy: ResolvedRetryPolicy, err: unknown): boolean {
  if (err instanceof NonRetryableError) return true;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  const keys = [err.name, ...(typeof code === 'string' ? [code] : [])];
  return keys.some((k) => ALWAYS_NON_RETRYABLE.includes(k) || policy.nonRetryable.includes(k));
}

/** The delay before the next attempt after `failures` failures, or undefined to give up. */
export function nextRetry(policy: ResolvedRetryPolicy, err: unknown, failures: number): number | undefined {
  if (isNonRetryable(policy, err)) return undefined;
  if (policy.maximumAttempts !== 0 && failures >= policy.maximumAttempts) return undefined;
  return retryDelayMs(policy, failures);
}
