import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiextensionsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { waitFor } from '../../src/core/clock.ts';
import { probe } from '../../src/sandbox/https.ts';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestCluster, assertLoopbackRanges } from '../support/sandbox.ts';

const cluster = await useTestCluster({ nodes: 3 });

function isRunning(p: { status?: { phase?: string; containerStatuses?: { ready?: boolean }[] } }): boolean {
  return p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.ready === true);
}

describe('sandbox cluster', () => {
  it('serves Kubernetes v1.34.10 at /version', async () => {
    const ca = await readFile(join(cluster.dir, 'certs', 'apiserver.crt'), 'utf8');
    const token = /token: (\S+)/.exec(await readFile(cluster.kubeconfigPath, 'utf8'))?.[1];
    const res = await probe(`${cluster.server}/version`, { ca, ...(token === undefined ? {} : { token }) });
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { gitVersion: string }).gitVersion, 'v1.34.10');
  });

  it('runs a 3-replica Deployment as 3 Running pods on kwok nodes, and replaces a deleted pod', async () => {
    const ns = await cluster.createNamespace('deploy');
    await cluster.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'nginx' }] },
          },
        },
      },
    });
    const pods = await cluster.waitForPods(ns, 'app=web', (ps) => ps.length === 3 && ps.every(isRunning));
    for (const p of pods) {
      assert.match(p.spec?.nodeName ?? '', /^kwok-node-\d+$/);
      assert.match(p.status?.podIP ?? '', /^127\.200\./);
    }
    const victim = pods[0]?.metadata?.name;
    assert.ok(victim !== undefined);
    await cluster.core.deleteNamespacedPod({ name: victim, namespace: ns, gracePeriodSeconds: 0 });
    const after = await cluster.waitForPods(
      ns,
      'app=web',
      (ps) => ps.length === 3 && ps.every(isRunning) && !ps.some((p) => p.metadata?.name === victim),
    );
    assert.equal(after.length, 3);
    await assertLoopbackRanges(cluster.core);
  });

  it('gives Services a ClusterIP in 127.96.0.0/16', async () => {
    const ns = await cluster.createNamespace('svc');
    const svc = await cluster.core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
    });
    assert.match(svc.spec?.clusterIP ?? '', /^127\.96\.\d+\.\d+$/);
  });

  it('shows a node marked NotReady, and Ready again when cleared', async () => {
    await cluster.setNodeNotReady('kwok-node-2', true);
    const readyStatus = async (): Promise<string | undefined> => {
      const n = await cluster.core.readNode({ name: 'kwok-node-2' });
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    };
    await waitFor('node NotReady', async () => ((await readyStatus()) === 'False' ? true : undefined), {
      timeoutMs: 30_000,
    });
    await cluster.setNodeNotReady('kwok-node-2', false);
    await waitFor('node Ready again', async () => ((await readyStatus()) === 'True' ? true : undefined), {
      timeoutMs: 30_000,
    });
  });

  it('puts a labelled workload into CrashLoopBackOff with rising restarts', async () => {
    const ns = await cluster.createNamespace('crash');
    await cluster.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'crashy' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'crashy' } },
          template: {
            metadata: { labels: { app: 'crashy', 'chaos.lifeline.dev/mode': 'crashloop' } },
            spec: { containers: [{ name: 'c', image: 'busybox' }] },
          },
        },
      },
    });
    const pods = await cluster.waitForPods(
      ns,
      'app=crashy',
      (ps) =>
        ps.some((p) =>
          (p.status?.containerStatuses ?? []).some(
            (c) => c.state?.waiting?.reason === 'CrashLoopBackOff' && c.restartCount >= 2,
          ),
        ),
      40_000,
    );
    const cs = pods[0]?.status?.containerStatuses?.[0];
    assert.equal(cs?.lastState?.terminated?.reason, 'Error');
  });

  it('keeps a pod labelled image-pull Pending in ImagePullBackOff', async () => {
    const ns = await cluster.createNamespace('pull');
    await cluster.core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'p', labels: { app: 'p', 'chaos.lifeline.dev/mode': 'image-pull' } },
        spec: { containers: [{ name: 'c', image: 'does-not-exist:1' }] },
      },
    });
    const pods = await cluster.waitForPods(ns, 'app=p', (ps) =>
      ps.some((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff'),
    );
    assert.equal(pods[0]?.status?.phase, 'Pending');
  });

  it('serves a CRD and its custom resources', async () => {
    const ext = cluster.kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: 'widgets.demo.lifeline.dev' },
        spec: {
          group: 'demo.lifeline.dev',
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
                },
              },
            },
          ],
        },
      },
    });
    await waitFor('CRD Established', async () => {
      const crd = await ext.readCustomResourceDefinition({ name: 'widgets.demo.lifeline.dev' });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true
        ? true
        : undefined;
    });
    const ns = await cluster.createNamespace('crd');
    const custom = cluster.kc.makeApiClient(CustomObjectsApi);
    await waitFor('widget create', async () => {
      await custom.createNamespacedCustomObject({
        group: 'demo.lifeline.dev',
        version: 'v1',
        namespace: ns,
        plural: 'widgets',
        body: {
          apiVersion: 'demo.lifeline.dev/v1',
          kind: 'Widget',
          metadata: { name: 'w1' },
          spec: { size: 3 },
        },
      });
      return true;
    });
    const got = (await custom.getNamespacedCustomObject({
      group: 'demo.lifeline.dev',
      version: 'v1',
      namespace: ns,
      plural: 'widgets',
      name: 'w1',
    })) as { spec: { size: number } };
    assert.equal(got.spec.size, 3);
  });
});
