import { LifelineError } from '../core/errors.ts';
import type { JsonValue } from '../store/index.ts';
import type { RetryPolicy } from './retry.ts';

/** Default per-attempt timeout of a step: 10 minutes. */
export const DEFAULT_STEP_TIMEOUT_MS = 600_000;

/** What a step's `run` gets besides its AbortSignal. */
export interface StepContext<I extends JsonValue = JsonValue> {
  readonly runId: string;
  readonly workflow: string;
  readonly step: string;
  /** 1 for the first attempt; crashed attempts count too. */
  readonly attempt: number;
  readonly input: I;
  /** Outputs of the steps that completed before this one, by step name. */
  readonly results: Readonly<Record<string, JsonValue>>;
  /**
   * `<runId>/<step>`: the same on every attempt and after a resume. Make side effects
   * idempotent by this key (create-if-absent, upsert), because a step that crashed after its
   * side effect but before its result was recorded runs again.
   */
  readonly idempotencyKey: string;
  /** Reports progress to observers (not persisted). `fraction` is 0..1 when known. */
  progress(message: string, fraction?: number): void;
}

/** What a step's `compensate` gets: the context plus the output it returned. */
export interface CompensationContext<I extends JsonValue = JsonValue> extends Omit<
  StepContext<I>,
  'attempt'
> {
  readonly output: JsonValue;
}

/** An approval gate: the step waits for approve/deny (CLI, API) before it runs. */
export interface ApprovalGate {
  /** How long the gate stays open; then the step fails with `workflow.approval-expired`. */
  ttlMs: number;
  /** What the approver is asked to approve. Default: none. */
  summary?: string;
}

/** One step of a workflow. */
export interface StepDefinition<I extends JsonValue = JsonValue> {
  /** Unique within the workflow; the memoization key (do not rename steps of live runs). */
  name: string;
  /** Does the work and returns a JSON result (undefined is stored as null). Honour `signal`. */
  run(ctx: StepContext<I>, signal: AbortSignal): Promise<JsonValue | undefined> | JsonValue | undefined;
  /**
   * Undoes a completed step when a later one fails (saga); runs in reverse order, retried
   * with the step's policy, and may run more than once after a crash: make it idempotent.
   * Default: nothing to undo.
   */
  compensate?(ctx: CompensationContext<I>, signal: AbortSignal): Promise<void> | void;
  /** Retry policy for `run` and `compensate`. Default: see {@link RetryPolicy}. */
  retry?: RetryPolicy;
  /** Per-attempt timeout in ms; a timed-out attempt fails (and may retry). Default 600000 (10 min). */
  timeoutMs?: number;
  /** Wait for an approval before running. Default: no gate. */
  approval?: ApprovalGate;
}

/** A named, ordered list of steps. */
export interface WorkflowDefinition<I extends JsonValue = JsonValue> {
  /** Unique among the workflows a runner knows; stored on every run. */
  name: string;
  /** The steps, or a function of the run's input that returns them (it must be deterministic). */
  steps: readonly StepDefinition<I>[] | ((input: I) => readonly StepDefinition<I>[]);
  /** The run's output from the step results. Default: the last step's output. */
  output?(results: Readonly<Record<string, JsonValue>>): JsonValue;
}

function checkSteps(workflow: string, steps: readonly StepDefinition<never>[]): void {
  if (steps.length === 0) {
    throw new LifelineError('workflow.definition', `workflow ${workflow} has no steps`, {
      where: `workflow ${workflow}`,
      fix: 'give the workflow at least one step',
    });
  }
  const seen = new Set<string>();
  for (const step of steps) {
    if (step.name.trim() === '' || seen.has(step.name)) {
      throw new LifelineError(
        'workflow.definition',
        `workflow ${workflow} has ${step.name.trim() === '' ? 'a step without a name' : `two steps named "${step.name}"`}`,
        { where: `workflow ${workflow}`, fix: 'give every step a unique, non-empty name' },
      );
    }
    seen.add(step.name);
  }
}

/** Validates a workflow definition (unique, non-empty step names) and returns it. */
export function defineWorkflow<I extends JsonValue>(def: WorkflowDefinition<I>): WorkflowDefinition {
  if (def.name.trim() === '') {
    throw new LifelineError('workflow.definition', 'a workflow has no name', {
      where: 'defineWorkflow',
      fix: 'set the workflow name',
    });
  }
  if (typeof def.steps !== 'function') checkSteps(def.name, def.steps);
  return def as unknown as WorkflowDefinition;
}

/** The steps of a definition for a run's input (validated). */
export function stepsFor(def: WorkflowDefinition, input: JsonValue): readonly StepDefinition[] {
  const steps = typeof def.steps === 'function' ? def.steps(input) : def.steps;
  checkSteps(def.name, steps);
  return steps;
}
