import { mkdir, readFile, readdir, rm, writeFile, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../core/clock.ts';
import { LifelineError } from '../core/errors.ts';
import { pidAlive } from './process.ts';

/** What `lifeline sandbox` records about a named sandbox, in `<sandboxes>/<name>/state.json`. */
export interface SandboxState {
  name: string;
  status: 'starting' | 'ready' | 'failed';
  /** PID of the process that owns the cluster (foreground CLI or detached supervisor). */
  supervisorPid: number;
  nodes: number;
  dir: string;
  kubeconfig?: string;
  server?: string;
  componentPids?: Record<string, number>;
  startedAt: string;
  error?: string;
}

/** Root of named sandboxes: `LIFELINE_HOME/sandboxes` (default `~/.lifeline/sandboxes`). */
export function sandboxesDir(): string {
  return join(process.env['LIFELINE_HOME'] ?? join(homedir(), '.lifeline'), 'sandboxes');
}

/** Validates a sandbox name (DNS-1123 label). */
export function validateSandboxName(name: string): string {
  if (!/^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/.test(name)) {
    throw new LifelineError('sandbox.name', `invalid sandbox name "${name}"`, {
      where: '--name',
      fix: 'use lower-case letters, digits and "-", starting and ending with a letter or digit (max 40)',
    });
  }
  return name;
}

function stateFile(name: string): string {
  return join(sandboxesDir(), name, 'state.json');
}

async function cmdline(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Writes the state atomically (temp file + rename). */
export async function writeState(state: SandboxState): Promise<void> {
  const file = stateFile(state.name);
  await mkdir(join(sandboxesDir(), state.name), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(state, null, 2));
  await rename(`${file}.tmp`, file);
}

/** Reads a sandbox's state, or undefined when there is none. */
export async function readState(name: string): Promise<SandboxState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(name), 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
}

/** Every recorded sandbox. */
export async function listStates(): Promise<SandboxState[]> {
  let names: string[] = [];
  try {
    names = await readdir(sandboxesDir());
  } catch {
    return [];
  }
  const states = await Promise.all(names.map((n) => readState(n)));
  return states
    .filter((s): s is SandboxState => s !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Stops a recorded sandbox: SIGTERM to its supervisor (which stops the components in order),
 * then SIGKILL to any component still alive (a supervisor killed with -9 leaves them), then
 * removes its files. Returns false when no such sandbox is recorded.
 */
export async function stopRecorded(name: string, graceMs = 30_000): Promise<boolean> {
  const state = await readState(name);
  if (state === undefined) return false;
  if (state.supervisorPid !== process.pid && pidAlive(state.supervisorPid)) {
    process.kill(state.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (pidAlive(state.supervisorPid) && Date.now() < deadline) await sleep(100);
  }
  for (const pid of Object.values(state.componentPids ?? {})) {
    // Only kill a pid whose command line still names this sandbox's directory: pids get reused.
    if (pidAlive(pid) && (await cmdline(pid)).includes(state.dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
  }
  await rm(join(sandboxesDir(), name), { recursive: true, force: true });
  return true;
}
