/**
 * Sandbox scale benchmark (not a test): a cluster with 100 kwok nodes; 1,000 pods created
 * through 10 Deployments × 100 replicas; prints the seconds until all are Running.
 * Baseline, measured in the same run: the same load on a sandbox with the upstream default
 * client rate limits (kube-controller-manager and kube-scheduler at 20 qps).
 *
 *   scripts/hermetic.sh node --import tsx bench/sandbox-scale.ts [--nodes 100] [--pods 1000] [--no-baseline]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { sleep } from '../src/core/clock.ts';
import { startCluster } from '../src/sandbox/cluster.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    pods: { type: 'string', default: '1000' },
    'no-baseline': { type: 'boolean', default: false },
  },
});
const NODES = Number(values.nodes);
const PODS = Number(values.pods);
const DEPLOYMENTS = 10;
const TIMEOUT_MS = 300_000;

async function measure(tuning: 'scale' | 'stock'): Promise<{ seconds: number; startSeconds: number }> {
  const baseDir = await mkdtemp(join(tmpdir(), 'lifeline-bench-'));
  const t0 = performance.now();
  const cluster = await startCluster({
    name: `bench-${tuning}`,
    nodes: NODES,
    baseDir,
    tuning,
    readyTimeoutMs: 120_000,
  });
  const startSeconds = (performance.now() - t0) / 1000;
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const namespace = 'bench';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    for (;;) {
      try {
        await core.readNamespacedServiceAccount({ name: 'default', namespace });
        break;
      } catch {
        await sleep(100);
      }
    }
    const started = performance.now();
    const per = Math.ceil(PODS / DEPLOYMENTS);
    await Promise.all(
      Array.from({ length: DEPLOYMENTS }, (_, i) =>
        apps.createNamespacedDeployment({
          namespace,
          body: {
            metadata: { name: `load-${i}` },
            spec: {
              replicas: Math.min(per, PODS - i * per),
              selector: { matchLabels: { app: `load-${i}` } },
              template: {
                metadata: { labels: { app: `load-${i}` } },
                spec: { containers: [{ name: 'c', image: 'registry.invalid/load:1' }] },
              },
            },
          },
        }),
      ),
    );
    let last = -1;
    for (;;) {
      const list = await core.listNamespacedPod({ namespace, limit: 5000 });
      const running = list.items.filter((p) => p.status?.phase === 'Running').length;
      if (running !== last) {
        process.stderr.write(
          `  [${tuning}] ${running}/${PODS} Running after ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
        );
        last = running;
      }
      if (running >= PODS) break;
      if (performance.now() - started > TIMEOUT_MS)
        throw new Error(`[${tuning}] only ${running}/${PODS} Running after ${TIMEOUT_MS / 1000} s`);
      await sleep(500);
    }
    return { seconds: (performance.now() - started) / 1000, startSeconds };
  } finally {
    await cluster.stop();
    await rm(baseDir, { recursive: true, force: true });
  }
}

const ours = await measure('scale');
console.log(
  `sandbox-scale: ${NODES} nodes up in ${ours.startSeconds.toFixed(1)} s; ${PODS} pods Running in ${ours.seconds.toFixed(1)} s (${(PODS / ours.seconds).toFixed(1)} pods/s)`,
);
if (!values['no-baseline']) {
  const base = await measure('stock');
  console.log(
    `baseline (upstream default client rate limits): ${PODS} pods Running in ${base.seconds.toFixed(1)} s (${(PODS / base.seconds).toFixed(1)} pods/s)`,
  );
  console.log(`ratio: ${(base.seconds / ours.seconds).toFixed(2)}x faster than baseline`);
}
