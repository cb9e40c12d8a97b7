import {
  DefaultRenderer,
  Listr,
  ListrLogger,
  ProcessOutput,
  type ListrDefaultRendererLogLevels,
} from 'listr2';
import type { WorkflowEvent, WorkflowListener } from '../workflow/index.ts';

/** Options for {@link createProgressView}. */
export interface ProgressOptions {
  /** Where progress goes. Default `process.stderr`, so stdout stays clean for `-o json`. */
  stream?: NodeJS.WriteStream;
  /** Render interactively with listr2. Default: whether `stream` is a TTY. */
  tty?: boolean;
  /** Only show this run. Default: the first run an event arrives for. */
  runId?: string;
}

/** Renders the progress of one workflow run; subscribe `listener` to a runner. */
export interface ProgressView {
  readonly listener: WorkflowListener;
  /** Resolves once the run ended (terminal, lost or interrupted) and the view is flushed. */
  done(): Promise<void>;
}

function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}

/** One plain line for an event (what non-TTY output prints). */
export function formatEvent(e: WorkflowEvent): string {
  const step = e.step === undefined ? '' : ` step ${e.step}`;
  const attempt = e.attempt === undefined ? '' : ` (attempt ${e.attempt})`;
  const error = e.error === undefined ? '' : `: ${e.error.message}`;
  const head = `${clock(e.at)} run ${e.runId}`;
  switch (e.type) {
    case 'run.started':
    case 'run.resumed':
      return `${head} ${e.type === 'run.started' ? 'started' : 'resumed'} (${e.workflow}, ${e.steps?.length ?? 0} steps)`;
    case 'run.succeeded':
      return `${head} succeeded`;
    case 'run.failed':
      return `${head} failed${error}`;
    case 'run.lease-lost':
      return `${head} lost its lease; another runner continues it${e.message === undefined ? '' : `: ${e.message}`}`;
    case 'run.interrupted':
      return `${head} interrupted${e.message === undefined ? '' : `: ${e.message}`}`;
    case 'step.started':
      return `${head}${step} started${attempt}`;
    case 'step.progress':
      return `${head}${step} ${e.fraction === undefined ? '' : `${Math.round(e.fraction * 100)}% `}${e.message ?? ''}`.trimEnd();
    case 'step.completed':
      return `${head}${step} completed${attempt}`;
    case 'step.skipped':
      return `${head}${step} skipped (completed earlier)`;
    case 'step.failed':
      return `${head}${step} failed${attempt}${error}${e.retryInMs === undefined ? '' : `; retrying in ${e.retryInMs} ms`}`;
    case 'step.waiting-approval':
      return `${head}${step} waiting for approval until ${e.expiresAt === undefined ? '?' : new Date(e.expiresAt).toISOString()} (lifeline runs approve ${e.runId} --step ${e.step ?? ''})`;
    case 'approval.approved':
    case 'approval.denied':
      return `${head}${step} ${e.type === 'approval.approved' ? 'approved' : 'denied'}${e.by === undefined ? '' : ` by ${e.by}`}`;
    case 'approval.expired':
      return `${head}${step} approval expired`;
    case 'compensation.started':
      return `${head} compensating completed steps${error}`;
    case 'step.compensating':
      return `${head}${step} compensating`;
    case 'step.compensated':
      return `${head}${step} compensated`;
    case 'step.compensation-failed':
      return `${head}${step} compensation failed${error}`;
  }
}

/**
 * listr2's default renderer, allowed whenever we chose it: listr2 only checks
 * `process.stdout.isTTY`, but progress goes to its own stream (stderr by default).
 */
class StreamRenderer extends DefaultRenderer {
  static override nonTTY = true;
}

const ENDS: readonly WorkflowEvent['type'][] = [
  'run.succeeded',
  'run.failed',
  'run.lease-lost',
  'run.interrupted',
];

/**
 * A view of one run's progress: listr2's task list on a TTY, one plain line per event
 * otherwise (logs, CI, pipes).
 */
export function createProgressView(opts: ProgressOptions = {}): ProgressView {
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? stream.isTTY;
  return tty ? new ListrProgress(stream, opts.runId) : new PlainProgress(stream, opts.runId);
}

class PlainProgress implements ProgressView {
  readonly #stream: NodeJS.WriteStream;
  #runId: string | undefined;
  #resolve: () => void = () => undefined;
  readonly #done = new Promise<void>((resolve) => (this.#resolve = resolve));

  constructor(stream: NodeJS.WriteStream, runId: string | undefined) {
    this.#stream = stream;
    this.#runId = runId;
  }

  readonly listener: WorkflowListener = (e) => {
    this.#runId ??= e.runId;
    if (e.runId !== this.#runId) return;
    this.#stream.write(`${formatEvent(e)}\n`);
    if (ENDS.includes(e.type)) this.#resolve();
  };

  done(): Promise<void> {
    return this.#done;
  }
}

/** The part of a listr2 task wrapper this view drives. */
interface TaskHandle {
  title: string;
  output: string;
  skip(message?: string): void;
}

type Outcome = { kind: 'done' } | { kind: 'skip'; message: string };

/** The state of one step's listr task, fed by events that may arrive before listr reaches it. */
class StepTask {
  readonly promise: Promise<Outcome>;
  resolve: (o: Outcome) => void = () => undefined;
  reject: (e: Error) => void = () => undefined;
  settled = false;
  title: string;
  output: string | undefined;
  task: TaskHandle | undefined;

  constructor(readonly name: string) {
    this.title = name;
    this.promise = new Promise<Outcome>((resolve, reject) => {
      this.resolve = (o) => {
        this.settled = true;
        resolve(o);
      };
      this.reject = (e) => {
        this.settled = true;
        reject(e);
      };
    });
    // A step may fail before listr reaches its task; the task awaits the promise later.
    this.promise.catch(() => undefined);
  }

  setTitle(title: string): void {
    this.title = title;
    if (this.task !== undefined) this.task.title = title;
  }

  setOutput(output: string): void {
    this.output = output;
    if (this.task !== undefined) this.task.output = output;
  }
}

class ListrProgress implements ProgressView {
  readonly #stream: NodeJS.WriteStream;
  #runId: string | undefined;
  readonly #steps = new Map<string, StepTask>();
  #running: Promise<void> | undefined;
  #ended = false;
  #resolveEnded: () => void = () => undefined;
  readonly #endedPromise = new Promise<void>((resolve) => (this.#resolveEnded = resolve));

  constructor(stream: NodeJS.WriteStream, runId: string | undefined) {
    this.#stream = stream;
    this.#runId = runId;
  }

  readonly listener: WorkflowListener = (e) => {
    this.#runId ??= e.runId;
    if (e.runId !== this.#runId || this.#ended) return;
    if ((e.type === 'run.started' || e.type === 'run.resumed') && this.#running === undefined) this.#start(e);
    const step = e.step === undefined ? undefined : this.#steps.get(e.step);
    switch (e.type) {
      case 'step.skipped':
        step?.resolve({ kind: 'skip', message: `${e.step ?? ''} (completed earlier)` });
        break;
      case 'step.started':
        if (e.attempt !== undefined && e.attempt > 1) step?.setTitle(`${step.name} (attempt ${e.attempt})`);
        break;
      case 'step.progress':
        step?.setOutput(
          `${e.fraction === undefined ? '' : `${Math.round(e.fraction * 100)}% `}${e.message ?? ''}`,
        );
        break;
      case 'step.waiting-approval':
        step?.setOutput(`waiting for approval: lifeline runs approve ${e.runId} --step ${e.step ?? ''}`);
        break;
      case 'step.failed':
        if (e.retryInMs !== undefined)
          step?.setOutput(`${e.error?.message ?? 'failed'}; retrying in ${e.retryInMs} ms`);
        else step?.reject(new Error(e.error?.message ?? 'failed'));
        break;
      case 'step.completed':
        step?.resolve({ kind: 'done' });
        break;
      default:
        break;
    }
    if (ENDS.includes(e.type)) {
      this.#ended = true;
      const why =
        e.type === 'run.succeeded'
          ? 'not needed'
          : `not run: ${formatEvent(e).split(`run ${e.runId} `)[1] ?? e.type}`;
      for (const s of this.#steps.values())
        if (!s.settled) s.resolve({ kind: 'skip', message: `${s.name} (${why})` });
      this.#resolveEnded();
    }
  };

  #start(e: WorkflowEvent): void {
    for (const name of e.steps ?? []) this.#steps.set(name, new StepTask(name));
    const processOutput = new ProcessOutput(this.#stream, this.#stream);
    const listr = new Listr(
      [...this.#steps.values()].map((s) => ({
        title: s.title,
        task: async (_ctx, task): Promise<void> => {
          s.task = task;
          task.title = s.title;
          if (s.output !== undefined) task.output = s.output;
          const outcome = await s.promise;
          if (outcome.kind === 'skip') task.skip(outcome.message);
        },
      })),
      {
        concurrent: false,
        exitOnError: false,
        renderer: StreamRenderer,
        registerSignalListeners: false,
        rendererOptions: {
          logger: new ListrLogger<ListrDefaultRendererLogLevels>({ processOutput }),
          collapseErrors: false,
        },
      },
    );
    this.#running = listr.run().then(
      () => undefined,
      () => undefined,
    );
  }

  async done(): Promise<void> {
    await this.#endedPromise;
    await this.#running;
  }
}
