/**
 * Test harness: one real sandbox cluster per test file, shared by its tests and stopped in
 * `after()`. Asserts on start that every dialable address is on loopback.
 */
import { after } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../src/core/clock.ts';
import { startCluster, type Cluster } from '../../src/sandbox/cluster.ts';
import { CHAOS_LABEL, NODE_NOT_READY_LABEL, type ChaosMode } from '../../src/sandbox/kwok-stages.ts';

export { CHAOS_LABEL, NODE_NOT_READY_LABEL, type ChaosMode };

/** A sandbox cluster with ready-made clients and helpers. */
export interface TestCluster extends Cluster {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  /** Creates a namespace `<prefix>-<random>` and returns its name. */
  createNamespace(prefix: string): Promise<string>;
  /** Sets (or clears with `undefined`) the failure mode on a Deployment's pod template. */
  setDeploymentChaos(namespace: string, name: string, mode: ChaosMode | undefined): Promise<void>;
  /** Makes a kwok node NotReady (true) or Ready again (false). */
  setNodeNotReady(node: string, notReady: boolean): Promise<void>;
  /** Waits until `pred` holds for the pods matching `labelSelector`; returns them. */
  waitForPods(
    namespace: string,
    labelSelector: string,
    pred: (pods: V1Pod[]) => boolean,
    timeoutMs?: number,
  ): Promise<V1Pod[]>;
}

function inLoopback(ip: string | undefined): boolean {
  return ip !== undefined && /^127\.\d+\.\d+\.\d+$/.test(ip);
}

/** Throws unless Service, node and pod-range addresses are in 127.0.0.0/8. */
export async function assertLoopbackRanges(core: CoreV1Api): Promise<void> {
  const svc = await core.readNamespacedService({ name: 'kubernetes', namespace: 'default' });
  if (!inLoopback(svc.spec?.clusterIP))
    throw new Error(`Service ClusterIP ${svc.spec?.clusterIP} is not loopback`);
  const nodes = await core.listNode();
  for (const n of nodes.items) {
    for (const a of n.status?.addresses ?? []) {
      if (a.type === 'InternalIP' && !inLoopback(a.address)) {
        throw new Error(`node ${n.metadata?.name} InternalIP ${a.address} is not loopback`);
      }
    }
  }
  const pods = await core.listPodForAllNamespaces();
  for (const p of pods.items) {
    if (p.status?.podIP !== undefined && !inLoopback(p.status.podIP)) {
      throw new Error(
        `pod ${p.metadata?.namespace}/${p.metadata?.name} IP ${p.status.podIP} is not loopback`,
      );
    }
  }
}

/** Starts a sandbox cluster (stopped and removed in `after()`). */
export async function useTestCluster(opts: { nodes?: number; name?: string } = {}): Promise<TestCluster> {
  const baseDir = await mkdtemp(join(tmpdir(), 'lifeline-test-'));
  const cluster = await startCluster({ name: opts.name ?? 'test', nodes: opts.nodes ?? 3, baseDir });
  after(async () => {
    await cluster.stop();
    await rm(baseDir, { recursive: true, force: true });
  });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await assertLoopbackRanges(core);

  const mergePatch = setHeaderOptions('Content-Type', 'application/merge-patch+json');
  return {
    ...cluster,
    kc,
    core,
    apps,
    createNamespace: async (prefix: string) => {
      const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
      await core.createNamespace({ body: { metadata: { name } } });
      // The ServiceAccount admission plugin rejects pods until the default account exists.
      await waitFor(`default ServiceAccount in ${name}`, async () => {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
        return true;
      });
      return name;
    },
    setDeploymentChaos: async (namespace: string, name: string, mode: ChaosMode | undefined) => {
      await apps.patchNamespacedDeployment(
        {
          name,
          namespace,
          body: { spec: { template: { metadata: { labels: { [CHAOS_LABEL]: mode ?? null } } } } },
        },
        mergePatch,
      );
    },
    setNodeNotReady: async (node: string, notReady: boolean) => {
      await core.patchNode(
        { name: node, body: { metadata: { labels: { [NODE_NOT_READY_LABEL]: notReady ? 'true' : null } } } },
        mergePatch,
      );
    },
    waitForPods: async (
      namespace: string,
      labelSelector: string,
      pred: (pods: V1Pod[]) => boolean,
      timeoutMs = 60_000,
    ) =>
      waitFor(
        `pods ${labelSelector} in ${namespace}`,
        async () => {
          const list = await core.listNamespacedPod({ namespace, labelSelector });
          return pred(list.items) ? list.items : undefined;
        },
        { timeoutMs, intervalMs: 300 },
      ),
  };
}
