import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from '@commander-js/extra-typings';
import { render } from '../../core/index.ts';
import { binaryVersion, resolveBinDir, sandboxVersions, SANDBOX_BINARIES } from '../../sandbox/binaries.ts';
import { outputOption } from '../options.ts';

const run = promisify(execFile);

/** One doctor check: what was checked, whether it passed, what was found, what to do. */
interface CheckResult {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

async function firstLine(cmd: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await run(cmd, args, { timeout: 15_000 });
  return (stdout || stderr).trim().split('\n')[0] ?? '';
}

async function checkCommand(check: string, cmd: string, args: string[], fix: string): Promise<CheckResult> {
  try {
    return { check, ok: true, detail: await firstLine(cmd, args) };
  } catch (err) {
    return { check, ok: false, detail: `${cmd}: ${(err as Error).message.split('\n')[0] ?? ''}`, fix };
  }
}

function checkNode(): CheckResult {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const ok = major > 20 || (major === 20 && minor >= 19);
  return ok
    ? { check: 'node', ok, detail: process.version }
    : { check: 'node', ok, detail: process.version, fix: 'install Node.js 20.19 or newer' };
}

async function checkSandbox(): Promise<CheckResult[]> {
  const dir = resolveBinDir();
  const want = sandboxVersions();
  const fix = 'run `make setup` (builds the sandbox binaries from Go modules, ~6 min cold)';
  return Promise.all(
    [...SANDBOX_BINARIES, 'kubectl' as const].map(async (bin): Promise<CheckResult> => {
      const check = `sandbox ${bin}`;
      if (!existsSync(join(dir, bin))) return { check, ok: false, detail: `missing in ${dir}`, fix };
      try {
        const v = await binaryVersion(dir, bin);
        const expected = bin === 'etcd' ? want.etcd.replace(/^v/, '') : bin === 'kwok' ? want.kwok : want.k8s;
        return v.includes(expected)
          ? { check, ok: true, detail: v }
          : { check, ok: false, detail: `${v} (want ${expected})`, fix };
      } catch (err) {
        return { check, ok: false, detail: (err as Error).message, fix };
      }
    }),
  );
}

function checkTerraformMirror(): CheckResult {
  const mirror = process.env['LIFELINE_TF_PLUGIN_MIRROR'] ?? '/opt/tf-plugins';
  const aws = join(mirror, 'registry.terraform.io', 'hashicorp', 'aws');
  try {
    const versions = readdirSync(aws);
    if (versions.length > 0)
      return { check: 'terraform aws provider mirror', ok: true, detail: `${aws}: ${versions.join(', ')}` };
  } catch {
    // fall through
  }
  return {
    check: 'terraform aws provider mirror',
    ok: false,
    detail: `no provider under ${aws}`,
    fix: 'set LIFELINE_TF_PLUGIN_MIRROR to a filesystem mirror holding registry.terraform.io/hashicorp/aws',
  };
}

function checkPort(port: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      resolve({
        check: `port ${port}`,
        ok: false,
        detail: err.code ?? err.message,
        fix: `free port ${port} or set server.port in the config (lifeline serve --port N)`,
      });
    });
    srv.listen(port, '127.0.0.1', () => {
      srv.close(() => {
        resolve({ check: `port ${port}`, ok: true, detail: 'free on 127.0.0.1' });
      });
    });
  });
}

async function checkKubeconfig(path: string | undefined): Promise<CheckResult> {
  const { CoreV1Api, KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  const home = process.env['HOME'] ?? '';
  if (
    path === undefined &&
    (process.env['KUBECONFIG'] ?? '') === '' &&
    !existsSync(join(home, '.kube', 'config'))
  ) {
    return {
      check: 'kubeconfig',
      ok: false,
      detail: 'none found (no --kubeconfig, KUBECONFIG unset, no ~/.kube/config)',
      fix: 'start a sandbox (lifeline sandbox up --detach) and pass its kubeconfig, or point KUBECONFIG at your cluster',
    };
  }
  try {
    if (path !== undefined) kc.loadFromFile(path);
    else kc.loadFromDefault();
    const cluster = kc.getCurrentCluster();
    if (cluster === null) {
      return {
        check: 'kubeconfig',
        ok: false,
        detail: 'no current cluster',
        fix: 'pass --kubeconfig, set KUBECONFIG, or start one: lifeline sandbox up --detach',
      };
    }
    await kc.makeApiClient(CoreV1Api).listNamespace({ limit: 1 });
    return {
      check: 'kubeconfig',
      ok: true,
      detail: `${kc.getCurrentContext()} → ${cluster.server} reachable`,
    };
  } catch (err) {
    return {
      check: 'kubeconfig',
      ok: false,
      detail: (err as Error).message.split('\n')[0] ?? '',
      fix: 'check the kubeconfig points at a running cluster (lifeline sandbox status)',
    };
  }
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the prerequisites and say what to do for each failure')
    .option('--kubeconfig <file>', 'kubeconfig to check (default: KUBECONFIG or ~/.kube/config)')
    .option('--port <port>', 'server port to check', '7420')
    .addOption(outputOption())
    .action(async (opts) => {
      const setup = 'run `make setup`';
      const pgBin = (() => {
        try {
          const v = readdirSync('/usr/lib/postgresql').sort().at(-1);
          return v === undefined ? 'postgres' : `/usr/lib/postgresql/${v}/bin/postgres`;
        } catch {
          return 'postgres';
        }
      })();
      const results: CheckResult[] = [
        checkNode(),
        ...(await checkSandbox()),
        await checkCommand(
          'terraform',
          'terraform',
          ['version'],
          'install terraform (on the image) and put it on PATH',
        ),
        checkTerraformMirror(),
        await checkCommand('moto_server', 'moto_server', ['--help'], setup),
        await checkCommand('prometheus', 'prometheus', ['--version'], setup),
        await checkCommand('alertmanager', 'prometheus-alertmanager', ['--version'], setup),
        await checkCommand('postgresql', pgBin, ['--version'], setup),
        await checkCommand('ansible', 'ansible-playbook', ['--version'], setup),
        await checkPort(Number(opts.port)),
        await checkKubeconfig(opts.kubeconfig),
      ];
      if (opts.output === 'table') {
        for (const r of results) {
          process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.check}: ${r.detail}\n`);
          if (r.fix !== undefined) process.stdout.write(`      fix: ${r.fix}\n`);
        }
      } else {
        process.stdout.write(`${render(opts.output, results)}\n`);
      }
      const failed = results.filter((r) => !r.ok);
      // A missing kubeconfig is expected on a fresh machine: report it, but don't fail on it alone.
      if (failed.some((r) => r.check !== 'kubeconfig')) process.exitCode = 1;
    });
}
