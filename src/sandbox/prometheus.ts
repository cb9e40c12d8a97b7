import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { waitFor } from '../core/clock.ts';
import { LifelineError } from '../core/errors.ts';
import { probe } from './https.ts';
import { freePort } from './ports.ts';
import { startProcess, type ManagedProcess } from './process.ts';

/** A Prometheus alerting rule in the generated rule file. */
export interface PrometheusRule {
  alert: string;
  expr: string;
  /** Pending duration, e.g. `0s`, `30s`. Default `0s`. */
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Options for {@link startPrometheus}. */
export interface PrometheusOptions {
  /** `host:port` targets on 127.0.0.1 to scrape (job `lifeline-sandbox`). */
  scrapeTargets: readonly string[];
  /** Scrape and rule-evaluation interval in seconds. Default 1. */
  scrapeIntervalSec?: number;
  /** Directory for the log, config and TSDB. */
  logDir: string;
  /** Alertmanager `host:port` to send alerts to. Default: none. */
  alertmanager?: string;
  /** Alerting rules to load. Default: none. */
  rules?: readonly PrometheusRule[];
  /** Executable. Default `prometheus` on PATH (Debian package `prometheus`). */
  command?: string;
}

/** A running Prometheus on 127.0.0.1. */
export interface PrometheusServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

function assertLoopbackTarget(target: string): void {
  if (!/^(127\.\d+\.\d+\.\d+|localhost):\d+$/.test(target)) {
    throw new LifelineError('prometheus.target', `scrape target ${target} is not on loopback`, {
      where: target,
      fix: 'sandbox Prometheus only scrapes 127.0.0.1:<port> targets',
    });
  }
}

/** Starts Prometheus with a generated config whose every target is on 127.0.0.1. */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  opts.scrapeTargets.forEach(assertLoopbackTarget);
  if (opts.alertmanager !== undefined) assertLoopbackTarget(opts.alertmanager);
  const interval = `${opts.scrapeIntervalSec ?? 1}s`;
  const dir = join(opts.logDir, 'prometheus');
  await mkdir(join(dir, 'data'), { recursive: true });
  const ruleFile = join(dir, 'rules.yml');
  await writeFile(
    ruleFile,
    stringify({ groups: [{ name: 'lifeline-sandbox', interval, rules: opts.rules ?? [] }] }),
  );
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: [ruleFile],
    scrape_configs: [
      { job_name: 'lifeline-sandbox', static_configs: [{ targets: [...opts.scrapeTargets] }] },
    ],
    ...(opts.alertmanager === undefined
      ? {}
      : { alerting: { alertmanagers: [{ static_configs: [{ targets: [opts.alertmanager] }] }] } }),
  };
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, stringify(config));
  const port = await freePort();
  const proc = await startProcess({
    name: 'prometheus',
    command: opts.command ?? 'prometheus',
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
    ],
    logDir: opts.logDir,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForReady('prometheus', url, proc);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { url, port, process: proc, stop: () => proc.stop() };
}

/** Waits for `/-/ready` to answer 200, failing early (with the log path) if the process exits. */
export async function waitForReady(name: string, url: string, proc: ManagedProcess): Promise<void> {
  await waitFor(
    `${name} /-/ready`,
    async () => {
      if (!proc.running()) {
        throw new LifelineError('sandbox.start', `${name} exited during start-up`, {
          where: proc.logFile,
          fix: `read ${proc.logFile}`,
        });
      }
      return (await probe(`${url}/-/ready`)).status === 200 ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}
