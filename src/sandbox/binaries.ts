import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LifelineError } from '../core/errors.ts';

const run = promisify(execFile);

/** The pinned sandbox versions, read from `scripts/sandbox-versions.env` (shared with the build script). */
export interface SandboxVersions {
  k8s: string;
  etcd: string;
  kwok: string;
}

function repoFile(rel: string): string {
  // src/sandbox/ and dist/src/sandbox/ sit at different depths below the repository root.
  for (const up of ['../../', '../../../']) {
    const p = new URL(up + rel, import.meta.url).pathname;
    if (existsSync(p)) return p;
  }
  throw new Error(`cannot find ${rel} above ${import.meta.url}`);
}

/** Reads the pinned versions. */
export function sandboxVersions(): SandboxVersions {
  const text = readFileSync(repoFile('scripts/sandbox-versions.env'), 'utf8');
  const get = (key: string): string => {
    const m = new RegExp(`^${key}=(\\S+)`, 'm').exec(text);
    if (m?.[1] === undefined) throw new Error(`scripts/sandbox-versions.env has no ${key}`);
    return m[1];
  };
  return { k8s: get('K8S_VERSION'), etcd: get('ETCD_VERSION'), kwok: get('KWOK_VERSION') };
}

/** Names of the binaries a sandbox runs. */
export const SANDBOX_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
] as const;
export type SandboxBinary = (typeof SANDBOX_BINARIES)[number];

/** Where `scripts/build-sandbox.sh` caches the binaries (same rule as the script). */
export function defaultBinDir(v: SandboxVersions = sandboxVersions()): string {
  const cache = process.env['LIFELINE_CACHE'] ?? join(homedir(), '.cache', 'lifeline');
  return join(cache, 'sandbox', `k8s-${v.k8s}-etcd-${v.etcd}-kwok-${v.kwok}`);
}

/**
 * The directory holding the sandbox binaries: `LIFELINE_SANDBOX_BIN`, else `KUBEBUILDER_ASSETS`
 * when it holds every binary, else the build script's cache directory.
 */
export function resolveBinDir(): string {
  const explicit = process.env['LIFELINE_SANDBOX_BIN'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const assets = process.env['KUBEBUILDER_ASSETS'];
  if (assets !== undefined && SANDBOX_BINARIES.every((b) => existsSync(join(assets, b)))) return assets;
  return defaultBinDir();
}

/** Directory of kwok's Stage documents, copied next to the binaries by the build script. */
export function stagesDir(binDir: string): string {
  return join(binDir, 'kwok-stages');
}

/** Throws a LifelineError with the fix when a binary or the kwok stages are missing. */
export function assertBinaries(binDir: string): void {
  const missing = SANDBOX_BINARIES.filter((b) => !existsSync(join(binDir, b)));
  if (!existsSync(join(stagesDir(binDir), 'pod', 'general', 'pod-ready.yaml')))
    missing.push('kwok-stages' as never);
  if (missing.length > 0) {
    throw new LifelineError('sandbox.binaries', `sandbox binaries missing: ${missing.join(', ')}`, {
      where: binDir,
      fix: 'run `make setup` (or `scripts/build-sandbox.sh`), or point LIFELINE_SANDBOX_BIN / KUBEBUILDER_ASSETS at a directory that has them',
    });
  }
}

/** The version line each binary prints, or the error. Used by `lifeline doctor`. */
export async function binaryVersion(binDir: string, bin: SandboxBinary | 'kubectl'): Promise<string> {
  const args = bin === 'kubectl' ? ['version', '--client'] : ['--version'];
  const { stdout } = await run(join(binDir, bin), args, { timeout: 10_000 });
  return stdout.trim().split('\n')[0] ?? '';
}
