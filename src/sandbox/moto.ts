import { request } from 'node:http';
import { waitFor } from '../core/clock.ts';
import { LifelineError } from '../core/errors.ts';
import { freePort } from './ports.ts';
import { startProcess, type ManagedProcess } from './process.ts';

/** A running `moto_server` (AWS mock) bound to 127.0.0.1. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly port: number;
  readonly process: ManagedProcess;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

/** Options for {@link startMoto}. */
export interface StartMotoOptions {
  /** Directory for the log file `<name>.log`. */
  logDir: string;
  /** Process name, also the log file name. Default `moto`. */
  name?: string;
  /** The executable. Default `moto_server` from PATH. */
  command?: string;
  /** How long to wait for the server to answer HTTP. Default 30000 ms. */
  readyTimeoutMs?: number;
}

/** Static credentials for moto. moto accepts any; these are never real AWS credentials. */
export const MOTO_CREDENTIALS = {
  accessKeyId: 'lifeline-test',
  secretAccessKey: 'lifeline-test-secret',
} as const;

/** The region used against moto. */
export const MOTO_REGION = 'us-east-1';

/** AWS SDK v3 client settings for moto, as returned by {@link motoClientConfig}. */
export interface MotoClientConfig {
  endpoint: string;
  region: string;
  forcePathStyle: true;
  credentials: { accessKeyId: string; secretAccessKey: string };
  requestChecksumCalculation: 'WHEN_REQUIRED';
  responseChecksumValidation: 'WHEN_REQUIRED';
}

/**
 * AWS SDK v3 client configuration for a moto endpoint: explicit static credentials (so the SDK
 * never walks the default chain to the instance metadata service), the 127.0.0.1 endpoint,
 * path-style addressing (no `<bucket>.127.0.0.1` host names) and checksums only when required.
 * Throws when `endpoint` is not a loopback address.
 */
export function motoClientConfig(endpoint: string): MotoClientConfig {
  const host = new URL(endpoint).hostname;
  if (host !== '127.0.0.1') {
    throw new LifelineError('moto.endpoint', `moto endpoint ${endpoint} is not 127.0.0.1`, {
      where: endpoint,
      fix: 'use the endpoint returned by startMoto (http://127.0.0.1:<port>)',
    });
  }
  return {
    endpoint,
    region: MOTO_REGION,
    forcePathStyle: true,
    credentials: { ...MOTO_CREDENTIALS },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts the real `moto_server` on 127.0.0.1 and a free port, with
 * `AWS_EC2_METADATA_DISABLED=true`, and waits until it answers HTTP. If it exits before it is
 * ready (e.g. another process took the port in between), it is retried on a new port, up to
 * 3 attempts. The caller must call `stop()` (tests: in `after()`); the process supervisor also
 * kills it when this process exits.
 */
export async function startMoto(opts: StartMotoOptions): Promise<MotoServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startMotoOnce(opts);
    } catch (err) {
      if (!(err instanceof LifelineError && err.code === 'moto.exited') || attempt >= 3) throw err;
    }
  }
}

async function startMotoOnce(opts: StartMotoOptions): Promise<MotoServer> {
  const name = opts.name ?? 'moto';
  const command = opts.command ?? 'moto_server';
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let proc: ManagedProcess;
  try {
    proc = await startProcess({
      name,
      command,
      args: ['-H', '127.0.0.1', '-p', String(port)],
      logDir: opts.logDir,
      env: {
        ...process.env,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
        AWS_DEFAULT_REGION: MOTO_REGION,
      },
    });
  } catch (err) {
    throw new LifelineError('moto.start', `cannot start ${command}`, {
      where: command,
      fix: 'run scripts/setup-system.sh (installs moto[server]) or put moto_server on PATH',
      cause: err,
    });
  }
  let state: 'ready' | 'exited';
  try {
    state = await waitFor(
      `moto_server on ${endpoint}`,
      async () => {
        if (!proc.running()) return 'exited' as const;
        const status = await httpStatus(`${endpoint}/moto-api/data.json`);
        return status === 200 ? ('ready' as const) : undefined;
      },
      { timeoutMs: opts.readyTimeoutMs ?? 30_000, intervalMs: 100 },
    );
  } catch (err) {
    await proc.stop(1000);
    throw new LifelineError('moto.ready', `moto_server did not become ready on ${endpoint}`, {
      where: proc.logFile,
      fix: 'read the log file; check that moto[server] is installed (scripts/setup-system.sh)',
      cause: err,
    });
  }
  if (state === 'exited') {
    throw new LifelineError('moto.exited', 'moto_server exited before it was ready', {
      where: proc.logFile,
      fix: 'read the log file for the reason (e.g. a missing Python dependency of moto[server])',
    });
  }
  return { endpoint, port, process: proc, stop: () => proc.stop(5000) };
}
