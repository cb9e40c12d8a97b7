import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LifelineError } from '../core/errors.ts';
import { freePort } from './ports.ts';
import { startProcess, type ManagedProcess } from './process.ts';
import { waitForReady } from './prometheus.ts';

/** Options for {@link startAlertmanager}. */
export interface AlertmanagerOptions {
  /** Webhook receiver URL on 127.0.0.1 (e.g. Lifeline's `/api/v1/webhooks/alertmanager`). */
  webhookUrl: string;
  /** Bearer token Alertmanager sends to the webhook. Default: none. */
  webhookToken?: string;
  /** Directory for the log, config and data. */
  logDir: string;
  /** group_wait / group_interval in seconds (short for tests). Default 1. */
  groupWaitSec?: number;
  /** Executable. Default `prometheus-alertmanager` (Debian's name), on PATH. */
  command?: string;
}

/** A running Alertmanager on 127.0.0.1. */
export interface AlertmanagerServer {
  url: string;
  /** `127.0.0.1:<port>`, the form Prometheus' config takes. */
  address: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * Starts Alertmanager with a generated config routing every alert to one webhook, without a
 * gossip mesh (`--cluster.listen-address=`: without it Alertmanager exits on hosts with no
 * private IP, and it would otherwise listen beyond loopback).
 */
export async function startAlertmanager(opts: AlertmanagerOptions): Promise<AlertmanagerServer> {
  const host = new URL(opts.webhookUrl).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') {
    throw new LifelineError('alertmanager.webhook', `webhook ${opts.webhookUrl} is not on loopback`, {
      where: opts.webhookUrl,
      fix: 'point the sandbox Alertmanager at a receiver on 127.0.0.1',
    });
  }
  const wait = `${opts.groupWaitSec ?? 1}s`;
  const dir = join(opts.logDir, 'alertmanager');
  await mkdir(join(dir, 'data'), { recursive: true });
  const configFile = join(dir, 'alertmanager.yml');
  await writeFile(
    configFile,
    stringify({
      route: { receiver: 'lifeline', group_wait: wait, group_interval: wait, repeat_interval: '1h' },
      receivers: [
        {
          name: 'lifeline',
          webhook_configs: [
            {
              url: opts.webhookUrl,
              send_resolved: true,
              ...(opts.webhookToken === undefined
                ? {}
                : { http_config: { authorization: { type: 'Bearer', credentials: opts.webhookToken } } }),
            },
          ],
        },
      ],
    }),
    { mode: 0o600 },
  );
  const port = await freePort();
  const proc = await startProcess({
    name: 'alertmanager',
    command: opts.command ?? 'prometheus-alertmanager',
    args: [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    logDir: opts.logDir,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForReady('alertmanager', url, proc);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { url, address: `127.0.0.1:${port}`, process: proc, stop: () => proc.stop() };
}
