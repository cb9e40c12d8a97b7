export * from './types.ts';
export * from './retry.ts';
export * from './events.ts';
export { WorkflowRunner, type WorkflowRunnerOptions } from './runner.ts';
export { describeRun, decideApproval, type RunDescription } from './status.ts';
export { LeaseLostError, RunnerStoppedError, StepFailedError, toErrorInfo } from './errors.ts';
export type { DriveOutcome } from './execute.ts';
