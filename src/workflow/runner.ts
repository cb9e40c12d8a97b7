import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { sleep, systemClock, type Clock } from '../core/clock.ts';
import { LifelineError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { isTerminal, type JsonValue, type Lease, type RunRecord, type Store } from '../store/index.ts';
import { EventHub, type WorkflowListener } from './events.ts';
import { driveRun, type DriveOutcome } from './execute.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import type { WorkflowDefinition } from './types.ts';

/** Options for {@link WorkflowRunner}. */
export interface WorkflowRunnerOptions {
  store: Store;
  /** The workflows this runner can drive (and resume). */
  workflows: readonly WorkflowDefinition[];
  /** Identity written into leases. Default `<hostname>:<pid>:<random>`. */
  owner?: string;
  /** Lease duration in ms; a crashed runner's runs resume after this. Default 30000. */
  leaseMs?: number;
  /** Renewal interval in ms; must be below leaseMs. Default leaseMs / 3. */
  renewEveryMs?: number;
  /** How often {@link WorkflowRunner.start} looks for runs to resume, in ms. Default 5000. */
  resumeEveryMs?: number;
  /** How often a step waiting at an approval gate checks for a decision, in ms. Default 1000. */
  approvalPollMs?: number;
  /** Time source (must agree with the Store's). Default: the system clock. */
  clock?: Clock;
  /** Where unexpected errors are logged. Default: not logged (they are in the run's events). */
  logger?: Logger;
}

/**
 * Runs durable workflows on a {@link Store}. A run is driven by whichever runner holds its
 * lease; completed steps are memoized, so a run resumed after a crash continues after the
 * last completed step. `start()` resumes every non-terminal run whose lease expired, now and
 * every `resumeEveryMs`.
 */
export class WorkflowRunner {
  readonly owner: string;
  readonly #store: Store;
  readonly #workflows = new Map<string, WorkflowDefinition>();
  readonly #hub = new EventHub();
  readonly #active = new Map<string, Promise<DriveOutcome>>();
  readonly #stop = new AbortController();
  readonly #leaseMs: number;
  readonly #renewEveryMs: number;
  readonly #resumeEveryMs: number;
  readonly #approvalPollMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  #resumeTimer: NodeJS.Timeout | undefined;
  #scanning: Promise<string[]> | undefined;

  constructor(opts: WorkflowRunnerOptions) {
    this.#store = opts.store;
    for (const wf of opts.workflows) {
      if (this.#workflows.has(wf.name)) {
        throw new LifelineError('workflow.definition', `two workflows are named ${wf.name}`, {
          where: 'WorkflowRunner options: workflows',
          fix: 'give every workflow a unique name',
        });
      }
      this.#workflows.set(wf.name, wf);
    }
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.#leaseMs = opts.leaseMs ?? 30_000;
    this.#renewEveryMs = opts.renewEveryMs ?? Math.floor(this.#leaseMs / 3);
    this.#resumeEveryMs = opts.resumeEveryMs ?? 5000;
    this.#approvalPollMs = opts.approvalPollMs ?? 1000;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger;
    if (!(this.#leaseMs > 0) || !(this.#renewEveryMs > 0) || this.#renewEveryMs >= this.#leaseMs) {
      throw new LifelineError(
        'workflow.options',
        `renewEveryMs (${this.#renewEveryMs}) must be positive and below leaseMs (${this.#leaseMs})`,
        {
          where: 'WorkflowRunner options',
          fix: 'leave renewEveryMs out (leaseMs / 3) or make it smaller than leaseMs',
        },
      );
    }
  }

  /** Observes every run this runner drives (progress, steps, outcome); returns unsubscribe. */
  subscribe(listener: WorkflowListener): () => void {
    return this.#hub.subscribe(listener);
  }

  /** The definition of a workflow this runner knows. */
  workflow(name: string): WorkflowDefinition | undefined {
    return this.#workflows.get(name);
  }

  /**
   * Creates a run and starts driving it in the background. With an `id` that already exists,
   * nothing is created: the existing run is returned and resumed here if its lease is free.
   */
  async submit(workflow: string, input: JsonValue, opts: { id?: string } = {}): Promise<RunRecord> {
    const def = this.#definition(workflow);
    const { run, lease } = await this.#store.createRun({
      workflow: def.name,
      input,
      lease: { owner: this.owner, ms: this.#leaseMs },
      ...(opts.id === undefined ? {} : { id: opts.id }),
    });
    if (lease !== undefined) this.#drive(def, run, lease);
    else if (!isTerminal(run.status) && !this.#active.has(run.id)) await this.#tryClaim(run);
    return run;
  }

  /** Submits a run and waits until it is terminal. */
  async execute(
    workflow: string,
    input: JsonValue,
    opts: { id?: string; timeoutMs?: number } = {},
  ): Promise<RunRecord> {
    const run = await this.submit(workflow, input, opts.id === undefined ? {} : { id: opts.id });
    return this.wait(run.id, opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs });
  }

  /** Claims and starts driving every resumable run of known workflows; returns their ids. */
  resumeExpired(): Promise<string[]> {
    this.#scanning ??= this.#scan().finally(() => {
      this.#scanning = undefined;
    });
    return this.#scanning;
  }

  /** Resumes expired runs now and every `resumeEveryMs` until {@link stop}. */
  start(): void {
    if (this.#stop.signal.aborted || this.#resumeTimer !== undefined) return;
    const tick = (): void => {
      this.resumeExpired()
        .catch((err: unknown) => this.#logger?.warn({ err }, 'cannot scan for workflow runs to resume'))
        .finally(() => {
          if (!this.#stop.signal.aborted) this.#resumeTimer = setTimeout(tick, this.#resumeEveryMs);
        });
    };
    this.#resumeTimer = setTimeout(tick, 0);
  }

  /**
   * Waits until the run is terminal (driven here or elsewhere) and returns it. Rejects with
   * `workflow.wait-timeout` after `timeoutMs` (default: no limit).
   */
  async wait(
    runId: string,
    opts: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal } = {},
  ): Promise<RunRecord> {
    const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
    for (;;) {
      const local = this.#active.get(runId);
      if (local !== undefined) await local;
      const run = await this.#store.getRun(runId);
      if (run === undefined) {
        throw new LifelineError('workflow.run-not-found', `run ${runId} does not exist`, {
          where: `store (${this.#store.driver})`,
          fix: 'check the run id with `lifeline runs list`',
        });
      }
      if (isTerminal(run.status)) return run;
      if (Date.now() >= deadline) {
        throw new LifelineError(
          'workflow.wait-timeout',
          `run ${runId} is still ${run.status} after ${opts.timeoutMs} ms`,
          {
            where: `run ${runId}`,
            fix: 'see `lifeline runs describe <id>`: a step may wait for an approval or keep failing',
          },
        );
      }
      await sleep(Math.min(opts.pollMs ?? 200, Math.max(1, deadline - Date.now())), opts.signal);
    }
  }

  /** Ids of the runs this runner is driving now. */
  activeRuns(): string[] {
    return [...this.#active.keys()];
  }

  /**
   * Stops scanning, aborts the runs in flight (their steps see the abort), releases their
   * leases so another runner resumes them at once, and waits for them to wind down.
   */
  async stop(): Promise<void> {
    clearTimeout(this.#resumeTimer);
    this.#stop.abort(new Error('workflow runner stopped'));
    await Promise.allSettled([...this.#active.values()]);
    await this.#scanning?.catch(() => undefined);
  }

  // A method, so checks after an await are not narrowed away by the type checker.
  #stopping(): boolean {
    return this.#stop.signal.aborted;
  }

  #definition(name: string): WorkflowDefinition {
    const def = this.#workflows.get(name);
    if (def === undefined) {
      throw new LifelineError('workflow.unknown', `unknown workflow "${name}"`, {
        where: `runner ${this.owner}`,
        fix: `use one of: ${[...this.#workflows.keys()].join(', ') || '(none registered)'}`,
      });
    }
    return def;
  }

  async #scan(): Promise<string[]> {
    if (this.#stop.signal.aborted) return [];
    const runs = await this.#store.listResumableRuns({ workflows: [...this.#workflows.keys()] });
    const claimed: string[] = [];
    for (const run of runs) {
      if (this.#stopping()) break;
      if (this.#active.has(run.id)) continue;
      if (await this.#tryClaim(run)) claimed.push(run.id);
    }
    return claimed;
  }

  async #tryClaim(run: RunRecord): Promise<boolean> {
    const def = this.#workflows.get(run.workflow);
    if (def === undefined || this.#stop.signal.aborted) return false;
    const lease = await this.#store.claimRun(run.id, this.owner, this.#leaseMs);
    if (lease === undefined) return false;
    const fresh = await this.#store.getRun(run.id);
    if (fresh === undefined) return false;
    this.#drive(def, fresh, lease);
    return true;
  }

  #drive(def: WorkflowDefinition, run: RunRecord, lease: Lease): void {
    const keeper = new LeaseKeeper(this.#store, lease, {
      leaseMs: this.#leaseMs,
      renewEveryMs: this.#renewEveryMs,
      clock: this.#clock,
    });
    keeper.start();
    const done = driveRun(
      {
        store: this.#store,
        hub: this.#hub,
        clock: this.#clock,
        approvalPollMs: this.#approvalPollMs,
        stopSignal: this.#stop.signal,
        logger: this.#logger,
      },
      def,
      keeper,
      run,
    )
      .catch((err: unknown): DriveOutcome => {
        this.#logger?.error({ err, runId: run.id }, `workflow run failed unexpectedly: ${errorMessage(err)}`);
        return 'interrupted';
      })
      .finally(() => {
        this.#active.delete(run.id);
      });
    this.#active.set(run.id, done);
  }
}
