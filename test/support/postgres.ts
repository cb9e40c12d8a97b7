import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sleep, waitFor } from '../../src/core/clock.ts';
import { freePort } from '../../src/sandbox/ports.ts';
import { startProcess, type ManagedProcess } from '../../src/sandbox/process.ts';

/** A throwaway PostgreSQL server on 127.0.0.1. */
export interface TestPostgres {
  /** `postgres://lifeline@127.0.0.1:<port>/postgres` (trust auth, no password). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Creates a fresh database and returns its URL (one per suite keeps suites independent). */
  createDatabase(name: string): Promise<string>;
  /** Fast shutdown, then removes the data directory. */
  stop(): Promise<void>;
}

const PG_ROOT = '/usr/lib/postgresql';

/** The newest installed PostgreSQL's bin directory (Debian layout), installing it if missing. */
export function postgresBinDir(): string {
  const find = (): string | undefined =>
    existsSync(PG_ROOT)
      ? readdirSync(PG_ROOT)
          .filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'postgres')))
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => join(PG_ROOT, v, 'bin'))[0]
      : undefined;
  let dir = find();
  if (dir === undefined) {
    execFileSync('bash', [new URL('../../scripts/setup-system.sh', import.meta.url).pathname], {
      stdio: 'inherit',
    });
    dir = find();
  }
  if (dir === undefined) {
    throw new Error(
      `PostgreSQL is not installed under ${PG_ROOT}; run scripts/setup-system.sh (outside the hermetic namespace)`,
    );
  }
  return dir;
}

/** initdb and postgres refuse to run as root: as root, run them as the `postgres` user. */
function asPostgresUser(command: string, args: readonly string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, [...args]];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]];
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/**
 * Starts a PostgreSQL server in a temp dir on a free 127.0.0.1 port (fsync off: test data
 * only). Call `stop()` in `after()`.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const dataRoot = mkdtempSync(join(tmpdir(), 'lifeline-pg-'));
  const dataDir = join(dataRoot, 'data');
  if (process.getuid?.() === 0) {
    const { uid, gid } = postgresIds();
    chownSync(dataRoot, uid, gid);
  }
  const [initCmd, initArgs] = asPostgresUser(join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'lifeline',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  try {
    execFileSync(initCmd, initArgs, { stdio: 'pipe' });
  } catch (err) {
    rmSync(dataRoot, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`initdb failed in ${dataDir}: ${e.stderr?.toString() ?? e.message}`, { cause: err });
  }
  const port = await freePort();
  const [cmd, args] = asPostgresUser(join(bin, 'postgres'), [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-k',
    dataRoot,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=100',
  ]);
  let proc: ManagedProcess | undefined;
  const cleanup = async (): Promise<void> => {
    if (proc?.running() === true) {
      // SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for clients to leave).
      process.kill(proc.pid, 'SIGINT');
      await Promise.race([proc.exited, sleep(10_000)]);
      await proc.stop(2000);
    }
    rmSync(dataRoot, { recursive: true, force: true });
  };
  try {
    proc = await startProcess({ name: 'postgres', command: cmd, args, logDir: dataRoot });
    const url = `postgres://lifeline@127.0.0.1:${port}/postgres`;
    const started = proc;
    await waitFor(
      `PostgreSQL on 127.0.0.1:${port} (log: ${started.logFile})`,
      async () => {
        if (!started.running()) throw new Error(`postgres exited; see ${started.logFile}`);
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
        try {
          await client.connect();
          await client.query('select 1');
          return true;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    return {
      url,
      port,
      dataDir,
      async createDatabase(name: string): Promise<string> {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid database name ${name}`);
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`create database ${name}`);
        } finally {
          await client.end();
        }
        return `postgres://lifeline@127.0.0.1:${port}/${name}`;
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
