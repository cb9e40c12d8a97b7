import { errorMessage } from '../core/errors.ts';
import type { ErrorInfo } from '../store/index.ts';

/** A serialisable summary of a thrown value. */
export function toErrorInfo(err: unknown): ErrorInfo {
  const name = err instanceof Error ? err.name : 'Error';
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return { name, message: errorMessage(err), ...(typeof code === 'string' ? { code } : {}) };
}

/** The run lost its lease (another runner claimed it): stop without writing. */
export class LeaseLostError extends Error {
  readonly code = 'workflow.lease-lost';
  constructor(message: string) {
    super(message);
    this.name = 'LeaseLostError';
  }
}

/** The runner is stopping: stop and hand the run back. */
export class RunnerStoppedError extends Error {
  readonly code = 'workflow.runner-stopped';
  constructor() {
    super('the workflow runner is stopping');
    this.name = 'RunnerStoppedError';
  }
}

/** A step failed for good (retries exhausted, non-retryable, denied): compensate. */
export class StepFailedError extends Error {
  readonly info: ErrorInfo;
  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'StepFailedError';
    this.info = info;
  }
}
