import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Option, type Command } from '@commander-js/extra-typings';
import { LifelineError, render, sleep, type OutputFormat } from '../../core/index.ts';
import { probe } from '../../sandbox/https.ts';
import { pidAlive } from '../../sandbox/process.ts';
import {
  listStates,
  readState,
  sandboxesDir,
  stopRecorded,
  validateSandboxName,
  writeState,
  type SandboxState,
} from '../../sandbox/registry.ts';
import { intArg, outputOption } from '../options.ts';

interface UpOptions {
  name: string;
  nodes: number;
  detach?: boolean;
  supervise?: boolean;
  output: OutputFormat;
}

function printUp(state: SandboxState, output: OutputFormat): void {
  const info = { name: state.name, kubeconfig: state.kubeconfig ?? '', server: state.server ?? '' };
  if (output === 'table') {
    process.stdout.write(
      `sandbox ${info.name} is ready (${state.nodes} nodes)\n  server:     ${info.server}\n  kubeconfig: ${info.kubeconfig}\n` +
        `  try:        KUBECONFIG=${info.kubeconfig} kubectl get nodes\n`,
    );
  } else {
    process.stdout.write(`${render(output, info)}\n`);
  }
}

async function refuseIfRunning(name: string): Promise<void> {
  const existing = await readState(name);
  if (existing === undefined) return;
  if (pidAlive(existing.supervisorPid)) {
    throw new LifelineError(
      'sandbox.exists',
      `sandbox "${name}" is already running (pid ${existing.supervisorPid})`,
      {
        where: existing.dir,
        fix: `use it (KUBECONFIG=${existing.kubeconfig ?? '?'}), or stop it first: lifeline sandbox down --name ${name}`,
      },
    );
  }
  // A stale record from a crashed run: clean it up before starting afresh.
  await stopRecorded(name);
}

/** Runs the cluster in this process until SIGINT/SIGTERM or a component dies. */
async function runForeground(opts: UpOptions): Promise<void> {
  const base = sandboxesDir();
  const dir = join(base, opts.name);
  const state: SandboxState = {
    name: opts.name,
    status: 'starting',
    supervisorPid: process.pid,
    nodes: opts.nodes,
    dir,
    startedAt: new Date().toISOString(),
  };
  await writeState(state);
  const stop = { requested: false };
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      stop.requested = true;
      resolve(sig);
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
    process.once('SIGHUP', on);
  });
  const { startCluster } = await import('../../sandbox/cluster.ts');
  let cluster;
  try {
    cluster = await startCluster({ name: opts.name, nodes: opts.nodes, baseDir: base });
  } catch (err) {
    await writeState({ ...state, status: 'failed', error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
  const ready: SandboxState = {
    ...state,
    status: 'ready',
    kubeconfig: cluster.kubeconfigPath,
    server: cluster.server,
    componentPids: cluster.pids(),
  };
  await writeState(ready);
  if (opts.supervise !== true) {
    printUp(ready, opts.output);
    if (process.stdout.isTTY)
      process.stdout.write('Press Ctrl-C to stop the sandbox and remove its files.\n');
  }
  const reason = await Promise.race([
    stopSignal,
    cluster.unexpectedExit.then((c) => `component ${c} exited`),
  ]);
  if (!stop.requested) process.stderr.write(`sandbox ${opts.name}: ${reason}; stopping\n`);
  await cluster.stop({ removeFiles: true });
  if (!stop.requested) process.exitCode = 1;
}

/** Starts a detached supervisor (`sandbox up --supervise`) and waits until the sandbox is ready. */
async function runDetached(opts: UpOptions): Promise<void> {
  const dir = join(sandboxesDir(), opts.name);
  await mkdir(dir, { recursive: true });
  const logFile = join(dir, 'supervisor.log');
  const fd = openSync(logFile, 'w');
  const script = process.argv[1];
  if (script === undefined) throw new Error('cannot find the lifeline entry script to detach');
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      script,
      'sandbox',
      'up',
      '--name',
      opts.name,
      '--nodes',
      String(opts.nodes),
      '--supervise',
    ],
    { detached: true, stdio: ['ignore', fd, fd] },
  );
  child.unref();
  const child$ = { exited: false };
  child.once('exit', () => {
    child$.exited = true;
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const state = await readState(opts.name);
    if (state?.status === 'ready' && state.supervisorPid === child.pid) {
      printUp(state, opts.output);
      return;
    }
    if (state?.status === 'failed' || child$.exited || Date.now() > deadline) {
      const log = readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n');
      throw new LifelineError(
        'sandbox.start',
        `sandbox "${opts.name}" did not start: ${state?.error ?? 'see log'}`,
        {
          where: logFile,
          fix: `read the log (last lines below), fix the cause, then retry; \`lifeline doctor\` checks the prerequisites\n${log}`,
        },
      );
    }
    await sleep(200);
  }
}

export function registerSandbox(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description('local Kubernetes sandboxes (etcd, apiserver, kcm, scheduler, kwok)');

  sandbox
    .command('up')
    .description('start a sandbox cluster; returns when it is ready (foreground unless --detach)')
    .option('--name <name>', 'sandbox name', 'lifeline')
    .option('--nodes <n>', 'number of kwok fake nodes', intArg('--nodes', 1), 3)
    .option('--detach', 'leave it running in the background for other commands')
    .addOption(new Option('--supervise', 'run as the detached supervisor').hideHelp())
    .addOption(outputOption())
    .action(async (opts) => {
      const o: UpOptions = { ...opts, name: validateSandboxName(opts.name) };
      if (o.supervise !== true) await refuseIfRunning(o.name);
      if (o.detach === true) await runDetached(o);
      else await runForeground(o);
    });

  sandbox
    .command('down')
    .description('stop a sandbox and remove its files')
    .option('--name <name>', 'sandbox name', 'lifeline')
    .action(async (opts) => {
      const name = validateSandboxName(opts.name);
      const found = await stopRecorded(name);
      process.stdout.write(found ? `sandbox ${name} stopped and removed\n` : `no sandbox named ${name}\n`);
    });

  sandbox
    .command('status')
    .description('list sandboxes and whether their apiserver answers')
    .addOption(outputOption())
    .action(async (opts) => {
      const rows = await Promise.all(
        (await listStates()).map(async (s) => {
          let reachable = false;
          if (s.server !== undefined && s.kubeconfig !== undefined) {
            try {
              const kc = readFileSync(s.kubeconfig, 'utf8');
              const token = /token: (\S+)/.exec(kc)?.[1];
              const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(kc)?.[1] ?? '', 'base64');
              reachable =
                (await probe(`${s.server}/readyz`, { ca, ...(token === undefined ? {} : { token }) }))
                  .status === 200;
            } catch {
              reachable = false;
            }
          }
          return {
            name: s.name,
            status: pidAlive(s.supervisorPid) ? s.status : 'stale',
            reachable,
            nodes: s.nodes,
            server: s.server ?? '',
            kubeconfig: s.kubeconfig ?? '',
          };
        }),
      );
      if (opts.output === 'table' && rows.length === 0) {
        process.stdout.write('no sandboxes (start one with: lifeline sandbox up --name <name> --detach)\n');
        return;
      }
      process.stdout.write(
        `${render(opts.output, rows, [
          { header: 'name', get: (r) => r.name },
          { header: 'status', get: (r) => r.status },
          { header: 'reachable', get: (r) => r.reachable },
          { header: 'nodes', get: (r) => r.nodes },
          { header: 'server', get: (r) => r.server },
          { header: 'kubeconfig', get: (r) => r.kubeconfig },
        ])}\n`,
      );
    });
}
