import { Option, type Command } from '@commander-js/extra-typings';
import { loadConfigFile, render, type Column, type OutputFormat } from '../../core/index.ts';
import type {
  ApprovalDecision,
  ApprovalRecord,
  RunRecord,
  RunStatus,
  StepRecord,
  Store,
  StoreConfig,
} from '../../store/index.ts';
import type { RunDescription } from '../../workflow/index.ts';
import { intArg, outputOption } from '../options.ts';
import { formatEvent } from '../progress.ts';

/** Default store when neither --store nor --config is given (the `serve` default too). */
const DEFAULT_STORE = '.lifeline/lifeline.db';
const RUN_STATUSES: readonly RunStatus[] = ['pending', 'running', 'compensating', 'succeeded', 'failed'];

interface StoreFlags {
  store?: string | undefined;
  config?: string | undefined;
}

async function resolveStore(flags: StoreFlags): Promise<StoreConfig> {
  if (flags.store !== undefined) {
    const { storeConfigFromArg } = await import('../../store/index.ts');
    return storeConfigFromArg(flags.store);
  }
  if (flags.config !== undefined) return (await loadConfigFile(flags.config)).store;
  return { driver: 'sqlite', path: DEFAULT_STORE };
}

/** The workflow module, loaded on use (it pulls in the Store drivers). */
const workflow = () => import('../../workflow/index.ts');

async function withStore<T>(flags: StoreFlags, use: (store: Store) => Promise<T>): Promise<T> {
  // The Store (kysely, better-sqlite3, pg) loads on use, keeping other commands fast.
  const { openStore } = await import('../../store/index.ts');
  const store = await openStore(await resolveStore(flags));
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

function storeOption() {
  return new Option(
    '--store <sqlite path|postgres url>',
    `the Store to read (default ${DEFAULT_STORE}, or store from --config)`,
  );
}

function configOption() {
  return new Option('-c, --config <file>', 'take the store from this YAML configuration file');
}

const time = (ms: number | null): string => (ms === null ? '' : new Date(ms).toISOString());

const RUN_COLUMNS: readonly Column<RunRecord>[] = [
  { header: 'id', get: (r) => r.id },
  { header: 'workflow', get: (r) => r.workflow },
  { header: 'status', get: (r) => r.status },
  { header: 'created', get: (r) => time(r.createdAt) },
  { header: 'finished', get: (r) => time(r.finishedAt) },
  {
    header: 'error',
    get: (r) =>
      r.error === null ? '' : `${r.error.step === undefined ? '' : `${r.error.step}: `}${r.error.message}`,
  },
];

const STEP_COLUMNS: readonly Column<StepRecord>[] = [
  { header: 'step', get: (s) => s.name },
  { header: 'status', get: (s) => s.status },
  { header: 'attempts', get: (s) => s.attempts },
  { header: 'failures', get: (s) => s.failures },
  { header: 'started', get: (s) => time(s.startedAt) },
  { header: 'finished', get: (s) => time(s.finishedAt) },
  { header: 'error', get: (s) => s.error?.message ?? '' },
];

const APPROVAL_COLUMNS: readonly Column<ApprovalRecord>[] = [
  { header: 'step', get: (a) => a.step },
  { header: 'status', get: (a) => a.status },
  { header: 'expires', get: (a) => time(a.expiresAt) },
  { header: 'decided by', get: (a) => a.decidedBy ?? '' },
  { header: 'reason', get: (a) => a.reason ?? a.summary ?? '' },
];

/** The human view of `runs describe`. */
function describeText(d: RunDescription): string {
  const { run } = d;
  const lease =
    run.leaseOwner === null
      ? '-'
      : `${run.leaseOwner} (ticket ${run.leaseTicket}${run.leaseExpiresAt === null ? ', released' : `, until ${time(run.leaseExpiresAt)}`})`;
  const lines = [
    `Run:       ${run.id}`,
    `Workflow:  ${run.workflow}`,
    `Status:    ${run.status}`,
    `Created:   ${time(run.createdAt)}`,
    `Finished:  ${time(run.finishedAt) || '-'}`,
    `Lease:     ${lease}`,
  ];
  if (run.error !== null)
    lines.push(
      `Error:     ${run.error.step === undefined ? '' : `step ${run.error.step}: `}${run.error.message}`,
    );
  if (run.output !== null) lines.push(`Output:    ${JSON.stringify(run.output)}`);
  lines.push('', render('table', d.steps, STEP_COLUMNS));
  if (d.approvals.length > 0) lines.push('', render('table', d.approvals, APPROVAL_COLUMNS));
  lines.push('', `Events (${d.events.length}):`, ...d.events.map((e) => `  ${formatEvent(e)}`));
  return lines.join('\n');
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function decisionCommand(runs: Command, name: 'approve' | 'deny', decision: ApprovalDecision): void {
  runs
    .command(name)
    .description(`${name} the approval gate of a step of a run`)
    .argument('<id>', 'run id')
    .requiredOption('--step <step>', 'the step waiting at the gate')
    .option('--by <who>', 'who decides (default: $USER)')
    .option('--reason <text>', 'why (kept in the run event log)')
    .addOption(storeOption())
    .addOption(configOption())
    .addOption(outputOption())
    .action(async (id, opts) => {
      const by = opts.by ?? process.env['USER'] ?? process.env['LOGNAME'] ?? 'cli';
      const approval = await withStore(opts, async (store) =>
        (await workflow()).decideApproval(store, {
          runId: id,
          step: opts.step,
          decision,
          by,
          ...(opts.reason === undefined ? {} : { reason: opts.reason }),
        }),
      );
      if (opts.output === 'table')
        print(`${approval.status} step ${approval.step} of run ${approval.runId} (by ${by})`);
      else print(render(opts.output, approval));
    });
}

/** `lifeline runs list|describe|approve|deny`: durable workflow runs in the Store. */
export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('durable workflow runs: list, describe, approve, deny');

  runs
    .command('list')
    .description('list workflow runs, newest first')
    .option(
      '--status <status>',
      `only runs in this status (${RUN_STATUSES.join('|')})`,
      (v: string): RunStatus => {
        if ((RUN_STATUSES as readonly string[]).includes(v)) return v as RunStatus;
        throw new Error(`--status must be one of ${RUN_STATUSES.join(', ')}, got "${v}"`);
      },
    )
    .option('--workflow <name>', 'only runs of this workflow')
    .option('--limit <n>', 'at most this many runs (default 100)', intArg('--limit', 1))
    .addOption(storeOption())
    .addOption(configOption())
    .addOption(outputOption())
    .action(async (opts) => {
      const list = await withStore(opts, (store) =>
        store.listRuns({
          ...(opts.status === undefined ? {} : { status: [opts.status] }),
          ...(opts.workflow === undefined ? {} : { workflow: opts.workflow }),
          limit: opts.limit ?? 100,
        }),
      );
      const format: OutputFormat = opts.output;
      if (format === 'table' && list.length === 0) print('no runs');
      else print(render(format, list, RUN_COLUMNS));
    });

  runs
    .command('describe')
    .description('show a run: steps, approvals and its event log')
    .argument('<id>', 'run id')
    .addOption(storeOption())
    .addOption(configOption())
    .addOption(outputOption())
    .action(async (id, opts) => {
      const described = await withStore(opts, async (store) => (await workflow()).describeRun(store, id));
      print(opts.output === 'table' ? describeText(described) : render(opts.output, described));
    });

  decisionCommand(runs, 'approve', 'approved');
  decisionCommand(runs, 'deny', 'denied');
}
