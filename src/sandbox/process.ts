import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '../core/clock.ts';

/** How a supervised process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process whose output goes to `<logDir>/<name>.log` and that is stopped on exit. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process exits (for any reason). */
  readonly exited: Promise<ExitInfo>;
  /** True until the process has exited. */
  running(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5000). Resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** What to start. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: readonly string[];
  /** Directory for `<name>.log` (stdout and stderr interleaved). */
  logDir: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const live = new Set<ManagedProcess>();
let hooksInstalled = false;

/**
 * Kills every live supervised process synchronously. Installed on `exit`, and on SIGINT/SIGTERM
 * when nobody else handles them, so a crash or Ctrl-C never leaves orphans.
 */
function killAllSync(): void {
  for (const p of live) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      // Only act when no other handler decided how to shut down (the CLI installs its own).
      if (process.listenerCount(sig) > 1) return;
      killAllSync();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Processes started by this module that are still running. */
export function liveProcesses(): readonly ManagedProcess[] {
  return [...live];
}

/** Starts a supervised process. Rejects if it cannot be spawned (e.g. binary missing). */
export async function startProcess(spec: ProcessSpec): Promise<ManagedProcess> {
  installHooks();
  await mkdir(spec.logDir, { recursive: true });
  const logFile = join(spec.logDir, `${spec.name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child: ChildProcess = spawn(spec.command, [...spec.args], {
    env: spec.env ?? process.env,
    cwd: spec.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => {
      reject(new Error(`cannot start ${spec.name} (${spec.command}): ${err.message}`, { cause: err }));
    });
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${spec.name}: no pid`);
  const status = { running: true };
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      status.running = false;
      live.delete(proc);
      // Let buffered output drain into the log before closing it.
      setImmediate(() => log.end());
      resolve({ code, signal });
    });
  });
  const proc: ManagedProcess = {
    name: spec.name,
    pid,
    logFile,
    exited,
    running: () => status.running,
    stop: async (graceMs = 5000) => {
      if (!status.running) return;
      child.kill('SIGTERM');
      const timer = new AbortController();
      const done = await Promise.race([
        exited.then(() => true),
        sleep(graceMs, timer.signal).then(
          () => false,
          () => true,
        ),
      ]);
      timer.abort();
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
  live.add(proc);
  return proc;
}

/**
 * True when a process with this pid exists and is not a zombie. A zombie (exited, not yet
 * reaped by its parent: e.g. a detached supervisor re-parented to an init that never waits)
 * still answers signal 0, so /proc/<pid>/stat is checked too.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name (which may itself contain spaces).
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no procfs: trust signal 0
  }
}
