import { sleep, type Clock } from '../core/clock.ts';
import { LifelineError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import {
  runStream,
  type ErrorInfo,
  type JournalInput,
  type JsonValue,
  type RunPatch,
  type RunRecord,
  type StepPatch,
  type StepRecord,
  type Store,
} from '../store/index.ts';
import { RunnerStoppedError, StepFailedError, toErrorInfo } from './errors.ts';
import { eventData, type EventHub, type WorkflowEvent } from './events.ts';
import type { LeaseKeeper } from './lease-keeper.ts';
import { nextRetry, resolveRetryPolicy, type ResolvedRetryPolicy } from './retry.ts';
import { DEFAULT_STEP_TIMEOUT_MS, stepsFor, type StepDefinition, type WorkflowDefinition } from './types.ts';

/** How a drive of a run ended. */
export type DriveOutcome = 'succeeded' | 'failed' | 'lease-lost' | 'stopped' | 'interrupted';

/** What {@link driveRun} needs. */
export interface DriveDeps {
  store: Store;
  hub: EventHub;
  clock: Clock;
  approvalPollMs: number;
  /** Aborted when the runner stops. */
  stopSignal: AbortSignal;
  logger?: Logger | undefined;
}

type EventFields = Omit<WorkflowEvent, 'type' | 'runId' | 'workflow' | 'at'>;

/**
 * Drives one claimed run to a terminal state: skips memoized steps, runs the rest with
 * retries and timeouts, waits at approval gates, compensates in reverse order on failure.
 * Every state change is a fenced write; the first refused write (or the keeper's abort)
 * stops the drive without touching the run again.
 */
export async function driveRun(
  deps: DriveDeps,
  def: WorkflowDefinition,
  keeper: LeaseKeeper,
  run: RunRecord,
): Promise<DriveOutcome> {
  const drive = new RunDrive(deps, def, keeper, run);
  try {
    return await drive.execute();
  } catch (err) {
    if (keeper.lost) {
      await drive.note('run.lease-lost', { message: errorMessage(keeper.signal.reason) });
      return 'lease-lost';
    }
    keeper.stop();
    const stopped = deps.stopSignal.aborted;
    await deps.store.releaseLease(keeper.lease).catch(() => false);
    await drive.note('run.interrupted', {
      message: stopped ? 'the runner stopped; the run will resume elsewhere' : errorMessage(err),
      ...(stopped ? {} : { error: toErrorInfo(err) }),
    });
    if (!stopped) deps.logger?.error({ err, runId: run.id }, 'workflow run interrupted');
    return stopped ? 'stopped' : 'interrupted';
  } finally {
    keeper.stop();
  }
}

class RunDrive {
  readonly #deps: DriveDeps;
  readonly #def: WorkflowDefinition;
  readonly #keeper: LeaseKeeper;
  readonly #run: RunRecord;
  readonly #signal: AbortSignal;
  readonly #results: Record<string, JsonValue> = {};
  #steps: readonly StepDefinition[] = [];

  constructor(deps: DriveDeps, def: WorkflowDefinition, keeper: LeaseKeeper, run: RunRecord) {
    this.#deps = deps;
    this.#def = def;
    this.#keeper = keeper;
    this.#run = run;
    this.#signal = AbortSignal.any([keeper.signal, deps.stopSignal]);
  }

  async execute(): Promise<DriveOutcome> {
    const { store } = this.#deps;
    const run = this.#run;
    try {
      this.#steps = stepsFor(this.#def, run.input);
    } catch (err) {
      await this.#finishFailed(toErrorInfo(err));
      return 'failed';
    }
    const names = this.#steps.map((s) => s.name);
    await store.ensureSteps(run.id, names);
    const rows = await this.#rows();
    for (const row of rows.values()) if (row.status === 'succeeded') this.#results[row.name] = row.output;

    const lease = this.#keeper.lease;
    if (run.status === 'pending') {
      await this.#updateRun({ status: 'running' }, 'run.started', {
        steps: names,
        ticket: lease.ticket,
        owner: lease.owner,
      });
    } else {
      await this.note('run.resumed', { steps: names, ticket: lease.ticket, owner: lease.owner });
    }
    if (run.status === 'compensating') {
      await this.#compensate(run.error ?? { name: 'Error', message: 'unknown failure' });
      return 'failed';
    }
    try {
      for (const step of this.#steps) {
        const row = rows.get(step.name);
        if (row?.status === 'succeeded') {
          await this.note('step.skipped', { step: step.name, message: 'completed earlier (memoized)' });
          continue;
        }
        await this.#runStep(step, row?.failures ?? 0);
      }
    } catch (err) {
      if (err instanceof StepFailedError) {
        await this.#compensate(err.info);
        return 'failed';
      }
      throw err;
    }
    const last = this.#steps[this.#steps.length - 1]?.name ?? '';
    const output =
      this.#def.output === undefined ? (this.#results[last] ?? null) : this.#def.output(this.#results);
    await this.#updateRun(
      { status: 'succeeded', output, error: null, finishedAt: this.#deps.clock.now(), release: true },
      'run.succeeded',
      {},
    );
    return 'succeeded';
  }

  // ---- steps ------------------------------------------------------------------------------

  async #runStep(step: StepDefinition, failuresSoFar: number): Promise<void> {
    const policy = resolveRetryPolicy(step.retry, `workflow ${this.#def.name}, step ${step.name}`);
    if (step.approval !== undefined) await this.#gate(step);
    let failures = failuresSoFar;
    for (;;) {
      this.#throwIfStopped();
      const started = await this.#updateStep(
        step.name,
        {
          status: 'running',
          addAttempt: true,
          startedAt: this.#deps.clock.now(),
          finishedAt: null,
          error: null,
        },
        'step.started',
        (s) => ({ step: step.name, attempt: s.attempts }),
      );
      const attempt = started.attempts;
      let output: JsonValue;
      try {
        output = await this.#invoke(step, attempt);
      } catch (err) {
        this.#throwIfStopped();
        failures += 1;
        const error = toErrorInfo(err);
        const retryInMs = nextRetry(policy, err, failures);
        await this.#updateStep(
          step.name,
          {
            status: retryInMs === undefined ? 'failed' : 'retrying',
            addFailure: true,
            error,
            finishedAt: retryInMs === undefined ? this.#deps.clock.now() : null,
          },
          'step.failed',
          () => ({ step: step.name, attempt, error, ...(retryInMs === undefined ? {} : { retryInMs }) }),
        );
        if (retryInMs === undefined) throw new StepFailedError({ ...error, step: step.name });
        await this.#sleep(retryInMs);
        continue;
      }
      await this.#updateStep(
        step.name,
        { status: 'succeeded', output, error: null, finishedAt: this.#deps.clock.now() },
        'step.completed',
        () => ({ step: step.name, attempt }),
      );
      this.#results[step.name] = output;
      return;
    }
  }

  /** Runs one attempt with its timeout; the result must be JSON. */
  async #invoke(step: StepDefinition, attempt: number): Promise<JsonValue> {
    const timeoutMs = step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    const timeout = new AbortController();
    const timer = setTimeout(() => {
      timeout.abort(
        new LifelineError('workflow.step-timeout', `step ${step.name} timed out after ${timeoutMs} ms`, {
          where: `run ${this.#run.id}, step ${step.name}, attempt ${attempt}`,
          fix: 'raise the step timeoutMs, or find out why it hangs (see the run events)',
        }),
      );
    }, timeoutMs);
    const signal = AbortSignal.any([this.#signal, timeout.signal]);
    const ctx = {
      runId: this.#run.id,
      workflow: this.#def.name,
      step: step.name,
      attempt,
      input: this.#run.input,
      results: { ...this.#results },
      idempotencyKey: `${this.#run.id}/${step.name}`,
      progress: (message: string, fraction?: number): void => {
        this.#emit('step.progress', {
          step: step.name,
          attempt,
          message,
          ...(fraction === undefined ? {} : { fraction }),
        });
      },
    };
    try {
      const value = await abortable(
        Promise.resolve().then(() => step.run(ctx, signal)),
        signal,
      );
      return toJson(value, `run ${this.#run.id}, step ${step.name}`);
    } catch (err) {
      if (timeout.signal.aborted && !this.#signal.aborted) throw timeout.signal.reason as Error;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits at an approval gate; denial or expiry fails the step (no retry). */
  async #gate(step: StepDefinition): Promise<void> {
    const gate = step.approval;
    if (gate === undefined) return;
    const { store, clock } = this.#deps;
    const runId = this.#run.id;
    let approval = await store.requestApproval({
      runId,
      step: step.name,
      ttlMs: gate.ttlMs,
      ...(gate.summary === undefined ? {} : { summary: gate.summary }),
    });
    if (approval.status === 'pending') {
      await this.#updateStep(step.name, { status: 'waiting-approval' }, 'step.waiting-approval', () => ({
        step: step.name,
        expiresAt: approval.expiresAt,
        ...(gate.summary === undefined ? {} : { message: gate.summary }),
      }));
      while (approval.status === 'pending') {
        const untilExpiry = Math.max(0, approval.expiresAt - clock.now()) + 1;
        await this.#sleep(Math.min(this.#deps.approvalPollMs, untilExpiry));
        approval = (await store.getApproval(runId, step.name)) ?? approval;
      }
    }
    if (approval.status === 'approved') {
      this.#emit('approval.approved', {
        step: step.name,
        ...(approval.decidedBy === null ? {} : { by: approval.decidedBy }),
      });
      return;
    }
    const denied = approval.status === 'denied';
    const error = toErrorInfo(
      new LifelineError(
        denied ? 'workflow.approval-denied' : 'workflow.approval-expired',
        denied
          ? `step ${step.name} was denied by ${approval.decidedBy ?? 'someone'}${approval.reason === null ? '' : `: ${approval.reason}`}`
          : `nobody approved step ${step.name} within ${gate.ttlMs} ms`,
      ),
    );
    await this.#updateStep(
      step.name,
      { status: 'failed', error, finishedAt: clock.now() },
      'step.failed',
      () => ({
        step: step.name,
        error,
      }),
    );
    if (!denied) await this.note('approval.expired', { step: step.name });
    throw new StepFailedError({ ...error, step: step.name });
  }

  // ---- compensation -------------------------------------------------------------------------

  /** Undoes completed steps in reverse order, then marks the run failed with `cause`. */
  async #compensate(cause: ErrorInfo): Promise<void> {
    if (this.#run.status !== 'compensating') {
      await this.#updateRun({ status: 'compensating', error: cause }, 'compensation.started', {
        error: cause,
      });
    }
    const rows = await this.#rows();
    const failed: string[] = [];
    for (const step of [...this.#steps].reverse()) {
      const row = rows.get(step.name);
      if (step.compensate === undefined || row === undefined) continue;
      if (row.status !== 'succeeded' && row.status !== 'compensating') continue;
      await this.#updateStep(step.name, { status: 'compensating' }, 'step.compensating', () => ({
        step: step.name,
      }));
      try {
        await this.#invokeCompensation(step, row);
      } catch (err) {
        this.#throwIfStopped();
        const error = toErrorInfo(err);
        failed.push(step.name);
        await this.#updateStep(
          step.name,
          { status: 'compensation-failed', error },
          'step.compensation-failed',
          () => ({
            step: step.name,
            error,
          }),
        );
        continue;
      }
      await this.#updateStep(step.name, { status: 'compensated' }, 'step.compensated', () => ({
        step: step.name,
      }));
    }
    const error =
      failed.length === 0
        ? cause
        : { ...cause, message: `${cause.message} (compensation failed for: ${failed.join(', ')})` };
    await this.#finishFailed(error);
  }

  async #invokeCompensation(step: StepDefinition, row: StepRecord): Promise<void> {
    if (step.compensate === undefined) return;
    const policy: ResolvedRetryPolicy = resolveRetryPolicy(
      step.retry,
      `workflow ${this.#def.name}, step ${step.name}`,
    );
    const ctx = {
      runId: this.#run.id,
      workflow: this.#def.name,
      step: step.name,
      input: this.#run.input,
      results: { ...this.#results },
      output: row.output,
      idempotencyKey: `${this.#run.id}/${step.name}`,
      progress: (message: string, fraction?: number): void => {
        this.#emit('step.progress', {
          step: step.name,
          message,
          ...(fraction === undefined ? {} : { fraction }),
        });
      },
    };
    for (let failures = 1; ; failures++) {
      this.#throwIfStopped();
      try {
        await abortable(
          Promise.resolve().then(() => step.compensate?.(ctx, this.#signal)),
          this.#signal,
        );
        return;
      } catch (err) {
        this.#throwIfStopped();
        const delay = nextRetry(policy, err, failures);
        if (delay === undefined) throw err;
        await this.#sleep(delay);
      }
    }
  }

  async #finishFailed(error: ErrorInfo): Promise<void> {
    await this.#updateRun(
      { status: 'failed', error, finishedAt: this.#deps.clock.now(), release: true },
      'run.failed',
      {
        error,
      },
    );
  }

  // ---- plumbing -------------------------------------------------------------------------------

  async #rows(): Promise<Map<string, StepRecord>> {
    return new Map((await this.#deps.store.listSteps(this.#run.id)).map((r) => [r.name, r]));
  }

  #event(type: WorkflowEvent['type'], fields: EventFields): WorkflowEvent {
    return { type, runId: this.#run.id, workflow: this.#def.name, at: this.#deps.clock.now(), ...fields };
  }

  #emit(type: WorkflowEvent['type'], fields: EventFields): void {
    this.#deps.hub.emit(this.#event(type, fields));
  }

  /** Appends an unfenced event (history, even from a runner that just lost its lease). */
  async note(type: WorkflowEvent['type'], fields: EventFields): Promise<void> {
    const event = this.#event(type, fields);
    await this.#deps.store
      .append(runStream(this.#run.id), { type, data: eventData(event) })
      .catch(() => undefined);
    this.#deps.hub.emit(event);
  }

  async #updateRun(patch: RunPatch, type: WorkflowEvent['type'], fields: EventFields): Promise<void> {
    const event = this.#event(type, fields);
    const journal: JournalInput = { type, data: eventData(event) };
    const updated = await this.#deps.store.updateRun(this.#keeper.lease, patch, journal);
    if (updated === undefined) this.#lost(`run update (${type}) refused`);
    this.#deps.hub.emit(event);
  }

  async #updateStep(
    name: string,
    patch: StepPatch,
    type: WorkflowEvent['type'],
    fields: (s: StepRecord) => EventFields,
  ): Promise<StepRecord> {
    let event: WorkflowEvent | undefined;
    const updated = await this.#deps.store.updateStep(this.#keeper.lease, name, patch, (s) => {
      event = this.#event(type, fields(s));
      return { type, data: eventData(event) };
    });
    if (updated === undefined || event === undefined)
      return this.#lost(`write of step ${name} (${type}) refused`);
    this.#deps.hub.emit(event);
    return updated;
  }

  #lost(what: string): never {
    this.#keeper.markLost(`${what}: the fencing ticket ${this.#keeper.lease.ticket} is no longer current`);
    throw this.#keeper.signal.reason as Error;
  }

  #throwIfStopped(): void {
    if (this.#keeper.lost) throw this.#keeper.signal.reason as Error;
    if (this.#deps.stopSignal.aborted) throw new RunnerStoppedError();
  }

  async #sleep(ms: number): Promise<void> {
    try {
      await sleep(ms, this.#signal);
    } catch (err) {
      this.#throwIfStopped();
      throw err;
    }
  }
}

/** Rejects with the signal's reason as soon as it aborts, even if `work` ignores it. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(errorMessage(e)));
      },
    );
  });
}

/** A step result as stored: JSON only (undefined becomes null). */
function toJson(value: JsonValue | undefined, where: string): JsonValue {
  if (value === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(value)) as JsonValue;
  } catch (err) {
    throw new LifelineError('workflow.step-output', `step result is not JSON: ${errorMessage(err)}`, {
      where,
      fix: 'return plain JSON data (no BigInt, no cycles) from the step',
      cause: err,
    });
  }
}
