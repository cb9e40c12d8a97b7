import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { sleep, waitFor } from '../../src/core/clock.ts';
import { createLogger } from '../../src/core/logger.ts';
import {
  DynamicClient,
  Informer,
  kubeGetJson,
  type KubeObjectLike,
  type RelistInfo,
} from '../../src/kube/index.ts';
import { useTestCluster } from '../support/sandbox.ts';
import { startTcpProxy } from './tcp-proxy.ts';

const cluster = await useTestCluster({ nodes: 1, name: 'kube-informer' });
const dyn = DynamicClient.forConfig(cluster.kc);
const proxy = await startTcpProxy(Number(new URL(cluster.server).port));
after(() => proxy.close());

/** The informer's own path to the apiserver goes through the proxy; the test writes directly. */
async function proxiedKubeConfig(): Promise<KubeConfig> {
  const text = await readFile(cluster.kubeconfigPath, 'utf8');
  const kc = new KubeConfig();
  kc.loadFromString(text.replaceAll(cluster.server, `https://127.0.0.1:${proxy.port}`));
  return kc;
}

interface ConfigMap extends KubeObjectLike {
  data?: Record<string, string>;
}

/**
 * A namespace for ConfigMaps only. The harness' createNamespace also waits for the default
 * ServiceAccount, which the controller manager is slow to create right after an apiserver restart.
 */
async function namespace(prefix: string): Promise<string> {
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  await dyn.apply(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
    { fieldManager: 'informer-test' },
  );
  return name;
}

const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const LABEL = 'lifeline.dev/informer-test';

async function putConfigMap(ns: string, name: string, value: string): Promise<void> {
  await dyn.apply(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: ns, labels: { [LABEL]: 'yes' } },
      data: { value },
    },
    { fieldManager: 'informer-test' },
  );
}

async function deleteConfigMap(ns: string, name: string): Promise<void> {
  await cluster.core.deleteNamespacedConfigMap({ name, namespace: ns });
}

/** name → resourceVersion, from a fresh list straight from the apiserver. */
async function freshList(ns: string): Promise<Map<string, string>> {
  const list = await kubeGetJson<{ items: ConfigMap[] }>(cluster.kc, {
    path: `/api/v1/namespaces/${ns}/configmaps`,
    query: { labelSelector: LABEL },
  });
  return new Map(list.items.map((c) => [c.metadata?.name ?? '', c.metadata?.resourceVersion ?? '']));
}

function cacheView(inf: Informer<ConfigMap>): Map<string, string> {
  return new Map(inf.list().map((c) => [c.metadata?.name ?? '', c.metadata?.resourceVersion ?? '']));
}

function sameMap(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

interface Seen {
  type: 'add' | 'update' | 'delete';
  name: string;
  at: number;
  finalStateUnknown?: boolean;
}

function record(inf: Informer<ConfigMap>): { seen: Seen[]; relists: RelistInfo[]; errors: number[] } {
  const seen: Seen[] = [];
  const relists: RelistInfo[] = [];
  const errors: number[] = [];
  const name = (o: ConfigMap): string => o.metadata?.name ?? '';
  inf.on('add', (o) => seen.push({ type: 'add', name: name(o), at: Date.now() }));
  inf.on('update', (o) => seen.push({ type: 'update', name: name(o), at: Date.now() }));
  inf.on('delete', (o, info) =>
    seen.push({ type: 'delete', name: name(o), at: Date.now(), finalStateUnknown: info.finalStateUnknown }),
  );
  inf.on('relist', (info) => relists.push(info));
  inf.on('error', () => errors.push(Date.now()));
  return { seen, relists, errors };
}

/** Compacts etcd at its current revision (etcd's JSON gateway on the sandbox's loopback client port). */
async function putViaEtcdCompaction(): Promise<void> {
  const base = `http://127.0.0.1:${cluster.ports.etcdClient}/v3`;
  // A write bumps the revision past every resourceVersion the informer has seen.
  const key = Buffer.from('/lifeline-test/compaction').toString('base64');
  const put = await fetch(`${base}/kv/put`, { method: 'POST', body: JSON.stringify({ key, value: key }) });
  const { header } = (await put.json()) as { header: { revision: string } };
  const res = await fetch(`${base}/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision: header.revision, physical: true }),
  });
  assert.equal(res.status, 200, await res.text());
}

const quietLogger = createLogger({ name: 'informer-test', level: 'error' });

describe('informer', () => {
  it('recovers when the apiserver stops and restarts mid-watch; changes made meanwhile reach the handlers', async () => {
    const ns = await namespace('inf-restart');
    for (let i = 0; i < 5; i++) await putConfigMap(ns, `cm-${i}`, 'v0');
    const inf = new Informer<ConfigMap>(await proxiedKubeConfig(), {
      resource: CONFIGMAPS,
      namespace: ns,
      labelSelector: LABEL,
      backoff: { initialMs: 200, maxMs: 1000 },
      logger: quietLogger,
    });
    const { seen, relists, errors } = record(inf);
    inf.start();
    try {
      await inf.synced;
      assert.deepEqual(
        inf
          .list()
          .map((c) => c.metadata?.name)
          .sort(),
        ['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4'],
      );
      assert.equal(inf.get(ns, 'cm-0')?.data?.['value'], 'v0');
      assert.equal(inf.get(ns, 'cm-0')?.kind, 'ConfigMap', 'listed items carry kind like watch events');

      // The watch delivers changes.
      await putConfigMap(ns, 'cm-0', 'v1');
      await waitFor('update of cm-0 via watch', () =>
        inf.get(ns, 'cm-0')?.data?.['value'] === 'v1' ? true : undefined,
      );
      assert.ok(seen.some((s) => s.type === 'update' && s.name === 'cm-0'));

      // Cut the informer's path and stop the apiserver.
      const errorsBefore = errors.length;
      proxy.block();
      await cluster.stopComponent('kube-apiserver');
      // Retries back off exponentially (200 ms doubling, capped at 1 s, up to 20 % shorter).
      await waitFor(
        'informer retries with backoff',
        () => (errors.length > errorsBefore + 5 ? true : undefined),
        { timeoutMs: 20_000 },
      );
      const gaps = errors
        .slice(errorsBefore)
        .map((t, i, a) => (i === 0 ? 0 : t - (a[i - 1] ?? t)))
        .slice(1);
      console.log(`retry gaps during the outage: ${gaps.join(', ')} ms`);
      assert.ok(Math.max(...gaps) >= 700, 'the delay grew');
      assert.ok(Math.max(...gaps) <= 1000 + 500, 'the delay is capped');
      const restartStartedAt = Date.now();
      await cluster.startComponent('kube-apiserver');
      const apiserverBackMs = Date.now() - restartStartedAt;

      // Changes while the informer cannot see the apiserver.
      const mark = seen.length;
      await putConfigMap(ns, 'cm-5', 'new');
      await putConfigMap(ns, 'cm-6', 'new');
      await putConfigMap(ns, 'cm-1', 'changed');
      await deleteConfigMap(ns, 'cm-2');
      await deleteConfigMap(ns, 'cm-3');
      assert.equal(seen.length, mark, 'nothing reached the informer while its path was down');
      const expected = await freshList(ns);

      const reconnectAt = Date.now();
      proxy.unblock();
      await waitFor(
        'cache matches a fresh list',
        () => (sameMap(cacheView(inf), expected) ? true : undefined),
        {
          timeoutMs: 30_000,
          intervalMs: 50,
        },
      );
      const recoveryMs = Date.now() - reconnectAt;
      assert.ok(sameMap(cacheView(inf), await freshList(ns)), 'cache equals a fresh list');

      const after = seen
        .slice(mark)
        .map((s) => `${s.type}:${s.name}`)
        .sort();
      assert.deepEqual(after, ['add:cm-5', 'add:cm-6', 'delete:cm-2', 'delete:cm-3', 'update:cm-1']);
      const st = inf.status();
      console.log(
        `apiserver back in ${apiserverBackMs} ms; informer caught up ${recoveryMs} ms after its path reopened; ` +
          `errors=${st.errors} relists=${JSON.stringify(st.relists)} watches=${st.watchesStarted} ` +
          `deletes finalStateUnknown=${JSON.stringify(seen.filter((s) => s.type === 'delete').map((s) => s.finalStateUnknown))}`,
      );
      assert.ok(relists.length >= 2, 'a relist followed the outage');

      // And the watch is live again.
      const t0 = Date.now();
      await putConfigMap(ns, 'cm-7', 'after');
      await waitFor('cm-7 via the new watch', () => (inf.get(ns, 'cm-7') === undefined ? undefined : true), {
        timeoutMs: 10_000,
        intervalMs: 20,
      });
      console.log(`event latency after recovery: ${Date.now() - t0} ms`);
    } finally {
      proxy.unblock();
      await inf.stop();
    }

    // Stopped: no more events, loop gone.
    const count = seen.length;
    await putConfigMap(ns, 'cm-8', 'late');
    await sleep(1000);
    assert.equal(seen.length, count, 'no events after stop()');
    assert.equal(inf.status().running, false);
  });

  it('relists when the watch goes silent (watchdog), and sees the change the dead watch missed', async () => {
    const ns = await namespace('inf-silent');
    await putConfigMap(ns, 'a', 'v0');
    const inf = new Informer<ConfigMap>(await proxiedKubeConfig(), {
      resource: CONFIGMAPS,
      namespace: ns,
      labelSelector: LABEL,
      silenceTimeoutMs: 2000,
      logger: quietLogger,
    });
    const { seen, relists } = record(inf);
    inf.start();
    try {
      await inf.synced;
      // Prove the watch connection is up, then make it half-open: it stays open but carries nothing.
      await putConfigMap(ns, 'a', 'live');
      await waitFor('watch live', () => (inf.get(ns, 'a')?.data?.['value'] === 'live' ? true : undefined));
      proxy.freeze();
      const t0 = Date.now();
      await putConfigMap(ns, 'a', 'v1');
      await waitFor('update seen', () => (inf.get(ns, 'a')?.data?.['value'] === 'v1' ? true : undefined), {
        timeoutMs: 10_000,
        intervalMs: 20,
      });
      const latency = Date.now() - t0;
      const update = seen.find((s) => s.type === 'update' && s.name === 'a');
      assert.ok(update);
      const byWatchdog = relists.find((r) => r.reason === 'watchdog' && r.updated === 1);
      assert.ok(byWatchdog, `a watchdog relist delivered the update (relists: ${JSON.stringify(relists)})`);
      assert.ok(latency >= 1500, `not before the silence timeout (${latency} ms)`);
      console.log(`watchdog: missed update delivered by relist after ${latency} ms (silenceTimeoutMs=2000)`);
    } finally {
      await inf.stop();
    }
  });

  it('resumes its watch from the last resourceVersion across a restart, and relists on 410 Gone after compaction', async () => {
    const ns = await namespace('inf-gone');
    await putConfigMap(ns, 'x', 'v0');
    // A slow first retry: the apiserver is back before the informer tries to resume its watch.
    const inf = new Informer<ConfigMap>(cluster.kc, {
      resource: CONFIGMAPS,
      namespace: ns,
      labelSelector: LABEL,
      backoff: { initialMs: 5000, maxMs: 5000, jitter: 0 },
      logger: quietLogger,
    });
    const { seen, relists } = record(inf);
    inf.start();
    try {
      await inf.synced;
      await putConfigMap(ns, 'x', 'live');
      await waitFor('watch live', () => (inf.get(ns, 'x')?.data?.['value'] === 'live' ? true : undefined));

      // 1. Plain restart: kube-apiserver 1.34 serves the old resourceVersion, the watch resumes and
      //    the changes arrive as ordinary watch events (no relist).
      await cluster.stopComponent('kube-apiserver');
      await cluster.startComponent('kube-apiserver');
      await putConfigMap(ns, 'y', 'new');
      await deleteConfigMap(ns, 'x');
      let expected = await freshList(ns);
      await waitFor(
        'cache matches after resume',
        () => (sameMap(cacheView(inf), expected) ? true : undefined),
        {
          timeoutMs: 30_000,
          intervalMs: 50,
        },
      );
      assert.deepEqual(
        relists.map((r) => r.reason),
        ['initial'],
        'resumed without relisting',
      );
      assert.deepEqual(seen.find((e) => e.type === 'delete' && e.name === 'x')?.finalStateUnknown, false);

      // 2. Restart after etcd compacted past the informer's resourceVersion (what the apiserver's
      //    own 5-minute compaction does over a longer outage): the resume gets 410 Gone → relist.
      await cluster.stopComponent('kube-apiserver');
      await putViaEtcdCompaction();
      await cluster.startComponent('kube-apiserver');
      await putConfigMap(ns, 'z', 'new');
      await deleteConfigMap(ns, 'y');
      expected = await freshList(ns);
      await waitFor('cache matches after 410', () => (sameMap(cacheView(inf), expected) ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 50,
      });
      const st = inf.status();
      console.log(`after compaction: relists=${JSON.stringify(st.relists)} watches=${st.watchesStarted}`);
      assert.ok(
        relists.some((r) => r.reason === 'gone'),
        `expected a relist after 410 Gone, got ${JSON.stringify(relists.map((r) => r.reason))}`,
      );
    } finally {
      await inf.stop();
    }
  });

  it('lists in pages, and caches cluster-scoped objects under their bare name', async () => {
    const ns = await namespace('inf-pages');
    for (let i = 0; i < 7; i++) await putConfigMap(ns, `p-${i}`, String(i));
    const paged = new Informer<ConfigMap>(cluster.kc, {
      resource: CONFIGMAPS,
      namespace: ns,
      labelSelector: LABEL,
      pageSize: 2,
      logger: quietLogger,
    }).start();
    const namespaces = new Informer(cluster.kc, {
      resource: { group: '', version: 'v1', resource: 'namespaces' },
      logger: quietLogger,
    }).start();
    try {
      await Promise.all([paged.synced, namespaces.synced]);
      assert.ok(sameMap(cacheView(paged), await freshList(ns)));
      assert.equal(paged.size, 7);
      assert.equal(namespaces.get(undefined, ns)?.metadata?.name, ns);
      assert.equal(namespaces.get('', 'kube-system')?.kind, 'Namespace');
      assert.equal(namespaces.list('').length, namespaces.size);
    } finally {
      await Promise.all([paged.stop(), namespaces.stop()]);
    }
  });

  it('stop() while retrying returns at once and leaves no timers behind', async () => {
    // The namespace need not exist: every request fails at the blocked proxy.
    const ns = 'inf-stop';
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    proxy.block();
    const inf = new Informer<ConfigMap>(await proxiedKubeConfig(), {
      resource: CONFIGMAPS,
      namespace: ns,
      backoff: { initialMs: 5000, maxMs: 5000 },
      logger: quietLogger,
    });
    let errors = 0;
    inf.on('error', (e) => {
      errors++;
      assert.equal(e.phase, 'list');
      assert.equal(e.statusCode, undefined, 'a transport error has no HTTP status');
    });
    inf.start();
    await waitFor('first failure', () => (errors > 0 ? true : undefined));
    const t0 = Date.now();
    await inf.stop();
    const stopMs = Date.now() - t0;
    proxy.unblock();
    await assert.rejects(inf.synced, /stopped before it synced/);
    assert.ok(stopMs < 500, `stop took ${stopMs} ms`);
    assert.equal(inf.status().running, false);
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    assert.ok(timersAfter <= timersBefore, `timers before ${timersBefore}, after stop ${timersAfter}`);
  });
});
