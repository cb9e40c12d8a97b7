import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '../core/clock.ts';
import { DynamicClient } from '../kube/index.ts';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

function deployFile(name: string): string {
  for (const up of ['../../', '../../../']) {
    const p = new URL(`${up}deploy/demo/${name}`, import.meta.url).pathname;
    if (existsSync(p)) return p;
  }
  throw new Error(`cannot find deploy/demo/${name}`);
}

async function manifests(file: string): Promise<Manifest[]> {
  const text = await readFile(deployFile(file), 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

/** The field manager Lifeline uses when it applies its own demo manifests. */
export const DEMO_FIELD_MANAGER = 'lifeline-demo';

/**
 * Deploys the demo "shop" application (deploy/demo/) with server-side apply: the CRD first,
 * then, once it is Established, everything else. Returns the applied objects as `Kind/ns/name`.
 */
export async function deployDemoApp(kc: KubeConfig): Promise<string[]> {
  const client = DynamicClient.forConfig(kc);
  const applied: string[] = [];
  for (const crd of await manifests('crd.yaml')) {
    await client.apply(crd, { fieldManager: DEMO_FIELD_MANAGER, force: true });
    applied.push(`${crd.kind}/${crd.metadata.name}`);
  }
  await waitFor(
    'demo CRD to be served',
    async () =>
      (await client.resourceFor('demo.lifeline.dev/v1', 'FeatureFlag')) === undefined ? undefined : true,
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  for (const m of await manifests('app.yaml')) {
    await client.apply(m, { fieldManager: DEMO_FIELD_MANAGER, force: true });
    applied.push(`${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`.replace('//', '/'));
  }
  return applied;
}
