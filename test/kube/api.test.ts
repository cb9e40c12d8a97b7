import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiregistrationV1Api, PolicyV1Api } from '@kubernetes/client-node';
import { waitFor } from '../../src/core/clock.ts';
import { LifelineError } from '../../src/core/errors.ts';
import {
  ApplyConflictError,
  DynamicClient,
  createKubeClients,
  discoverResources,
  evictPod,
  evictPodUntil,
  parseStatus,
  findResourceByKind,
  loadKubeConfig,
  type KubeObjectLike,
} from '../../src/kube/index.ts';
import { useTestCluster } from '../support/sandbox.ts';

const cluster = await useTestCluster({ nodes: 2, name: 'kube-api' });
const dyn = DynamicClient.forConfig(cluster.kc);

/** A CRD whose schema uses `enum` and `default`, fields client-node's typed serializer renames. */
const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.test.lifeline.dev' },
  spec: {
    group: 'test.lifeline.dev',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wdg'] },
    versions: ['v1beta1', 'v1'].map((name) => ({
      name,
      served: true,
      storage: name === 'v1',
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: {
            spec: {
              type: 'object',
              properties: { size: { type: 'string', enum: ['small', 'large'], default: 'small' } },
            },
          },
        },
      },
    })),
  },
};

interface CrdJson extends KubeObjectLike {
  spec: {
    versions: {
      name: string;
      schema: {
        openAPIV3Schema: {
          properties: { spec: { properties: { size: { enum?: string[]; default?: string } } } };
        };
      };
    }[];
  };
  status?: { conditions?: { type: string; status: string }[] };
}

describe('kube client factory', () => {
  it('loads a kubeconfig file and context and talks to the cluster with typed clients', async () => {
    const clients = createKubeClients({ kubeconfigPath: cluster.kubeconfigPath, context: 'kube-api' });
    assert.equal(clients.server, cluster.server);
    const nss = await clients.core.listNamespace();
    assert.ok(nss.items.some((n) => n.metadata?.name === 'kube-system'));
    const nodes = await clients.core.listNode();
    assert.equal(nodes.items.length, 2);
  });

  it('loads the in-cluster service account (token, CA, namespace under the mount root)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lifeline-sa-'));
    const saved = {
      host: process.env['KUBERNETES_SERVICE_HOST'],
      port: process.env['KUBERNETES_SERVICE_PORT'],
    };
    try {
      const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
      await mkdir(sa, { recursive: true });
      const kubeconfig = await readFile(cluster.kubeconfigPath, 'utf8');
      await writeFile(join(sa, 'token'), /token: (\S+)/.exec(kubeconfig)?.[1] ?? '');
      await writeFile(join(sa, 'ca.crt'), await readFile(join(cluster.dir, 'certs', 'apiserver.crt')));
      await writeFile(join(sa, 'namespace'), 'kube-system');
      const url = new URL(cluster.server);
      process.env['KUBERNETES_SERVICE_HOST'] = url.hostname;
      process.env['KUBERNETES_SERVICE_PORT'] = url.port;
      const clients = createKubeClients({ inCluster: true, serviceAccountRoot: root });
      assert.equal(clients.server, cluster.server);
      assert.equal(clients.kc.getContextObject(clients.kc.getCurrentContext())?.namespace, 'kube-system');
      const nss = await clients.core.listNamespace();
      assert.ok(nss.items.some((n) => n.metadata?.name === 'default'));
    } finally {
      if (saved.host === undefined) delete process.env['KUBERNETES_SERVICE_HOST'];
      else process.env['KUBERNETES_SERVICE_HOST'] = saved.host;
      if (saved.port === undefined) delete process.env['KUBERNETES_SERVICE_PORT'];
      else process.env['KUBERNETES_SERVICE_PORT'] = saved.port;
      await rm(root, { recursive: true, force: true });
    }
  });

  it('explains a missing file, an unknown context and a missing in-cluster environment', () => {
    assert.throws(
      () => loadKubeConfig({ kubeconfigPath: '/nonexistent/kubeconfig' }),
      (err: unknown) =>
        err instanceof LifelineError && err.code === 'kube.config' && err.where === '/nonexistent/kubeconfig',
    );
    assert.throws(
      () => loadKubeConfig({ kubeconfigPath: cluster.kubeconfigPath, context: 'nope' }),
      (err: unknown) =>
        err instanceof LifelineError && /context "nope"/.test(err.message) && /kube-api/.test(err.fix ?? ''),
    );
    const saved = process.env['KUBERNETES_SERVICE_HOST'];
    delete process.env['KUBERNETES_SERVICE_HOST'];
    try {
      assert.throws(() => loadKubeConfig({ inCluster: true }), /not running in a pod/);
    } finally {
      if (saved !== undefined) process.env['KUBERNETES_SERVICE_HOST'] = saved;
    }
  });
});

describe('server-side apply', () => {
  it('applies a CRD without losing enum/default, then a custom resource of it (any GVK via discovery)', async () => {
    const applied = await dyn.apply(widgetCrd, { fieldManager: 'lifeline-test' });
    assert.equal(applied.metadata.name, 'widgets.test.lifeline.dev');
    await waitFor('CRD established', async () => {
      const crd = await dyn.getObject<CrdJson>(widgetCrd);
      return crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true
        ? true
        : undefined;
    });
    const stored = await dyn.getObject<CrdJson>(widgetCrd);
    const size = stored?.spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties.size;
    assert.deepEqual(size?.enum, ['small', 'large']);
    assert.equal(size.default, 'small');

    const ns = await cluster.createNamespace('ssa-cr');
    const widget = await dyn.apply(
      {
        apiVersion: 'test.lifeline.dev/v1',
        kind: 'Widget',
        metadata: { name: 'w1', namespace: ns },
        spec: {},
      },
      { fieldManager: 'lifeline-test' },
    );
    // The server applied the schema default: proof the schema arrived intact.
    assert.deepEqual((widget as { spec?: unknown }).spec, { size: 'small' });
  });

  it('dryRun=All returns the result without persisting it, for a new and an existing object', async () => {
    const ns = await cluster.createNamespace('ssa-dry');
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'dry', namespace: ns },
      data: { a: '1' },
    };
    const dry = await dyn.apply(cm, { fieldManager: 'lifeline-a', dryRun: true });
    assert.deepEqual((dry as { data?: unknown }).data, { a: '1' });
    assert.equal(await dyn.getObject(cm), undefined, 'dry-run create persisted nothing');

    await dyn.apply(cm, { fieldManager: 'lifeline-a' });
    const dryUpdate = await dyn.apply(
      { ...cm, data: { a: '2' } },
      { fieldManager: 'lifeline-a', dryRun: true },
    );
    assert.deepEqual((dryUpdate as { data?: unknown }).data, { a: '2' });
    const stored = await cluster.core.readNamespacedConfigMap({ name: 'dry', namespace: ns });
    assert.deepEqual(stored.data, { a: '1' }, 'dry-run update left the stored object alone');
  });

  it('reports field manager conflicts with their owners, and force takes ownership', async () => {
    const ns = await cluster.createNamespace('ssa-conflict');
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owned', namespace: ns },
      data: { key: 'a' },
    };
    await dyn.apply(cm, { fieldManager: 'manager-a' });
    const err = await dyn.apply({ ...cm, data: { key: 'b' } }, { fieldManager: 'manager-b' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplyConflictError, `expected ApplyConflictError, got ${String(err)}`);
    assert.equal(err.status.code, 409);
    assert.deepEqual(
      err.conflicts.map((c) => [c.manager, c.field]),
      [['manager-a', '.data.key']],
    );
    // Same value is not a conflict: both managers then share the field.
    await dyn.apply(cm, { fieldManager: 'manager-c' });

    const forced = await dyn.apply({ ...cm, data: { key: 'b' } }, { fieldManager: 'manager-b', force: true });
    assert.deepEqual((forced as { data?: unknown }).data, { key: 'b' });
    const stored = await cluster.core.readNamespacedConfigMap({ name: 'owned', namespace: ns });
    const owners = (stored.metadata?.managedFields ?? [])
      .filter((m) => JSON.stringify(m.fieldsV1 ?? {}).includes('f:key'))
      .map((m) => m.manager);
    assert.deepEqual(owners, ['manager-b']);
  });

  it('fails clearly for an unknown kind', async () => {
    await assert.rejects(
      dyn.apply(
        { apiVersion: 'v1', kind: 'NoSuchKind', metadata: { name: 'x', namespace: 'default' } },
        { fieldManager: 'm' },
      ),
      (e: unknown) => e instanceof LifelineError && e.code === 'kube.unknown-kind',
    );
  });
});

describe('discovery', () => {
  it('lists built-in, CRD and cluster-scoped resources once each, at the preferred version', async () => {
    await dyn.apply(widgetCrd, { fieldManager: 'lifeline-test' });
    const res = await waitFor('widgets discovered', async () => {
      const r = await discoverResources(cluster.kc);
      return findResourceByKind(r, 'test.lifeline.dev', 'Widget') === undefined ? undefined : r;
    });
    assert.deepEqual(res.failures, []);
    const widget = findResourceByKind(res, 'test.lifeline.dev', 'Widget');
    assert.equal(widget?.version, 'v1', 'v1 is preferred over v1beta1');
    assert.equal(widget.namespaced, true);
    assert.deepEqual(widget.shortNames, ['wdg']);
    assert.equal(res.resources.filter((r) => r.group === 'test.lifeline.dev').length, 1);
    const pods = findResourceByKind(res, '', 'Pod');
    assert.equal(pods?.resource, 'pods');
    assert.equal(pods.apiVersion, 'v1');
    assert.equal(findResourceByKind(res, '', 'Node')?.namespaced, false);
    assert.equal(findResourceByKind(res, 'apps', 'Deployment')?.version, 'v1');
    assert.equal(
      findResourceByKind(res, 'apiextensions.k8s.io', 'CustomResourceDefinition')?.namespaced,
      false,
    );
    assert.ok(!res.resources.some((r) => r.resource.includes('/')), 'no subresources');
    assert.ok(
      res.resources.every((r) => r.verbs.includes('list')),
      'only listable resources',
    );
    // Each resource once per group.
    const keys = res.resources.map((r) => `${r.group}/${r.resource}`);
    assert.equal(new Set(keys).size, keys.length);
  });

  it('reports an aggregated API whose backend is down as a failure of that group, not an exception', async () => {
    const ns = await cluster.createNamespace('broken-api');
    // A Service without endpoints: its ClusterIP is in the loopback Service range, so the
    // aggregator's dial (if any) fails on this machine.
    const svc = (await dyn.apply(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'backend', namespace: ns },
        spec: { ports: [{ port: 443, targetPort: 6443 }] },
      },
      { fieldManager: 'lifeline-test' },
    )) as { spec?: { clusterIP?: string } };
    assert.match(svc.spec?.clusterIP ?? '', /^127\.96\./);
    const apiService = {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1beta1.broken.lifeline.dev' },
      spec: {
        group: 'broken.lifeline.dev',
        version: 'v1beta1',
        groupPriorityMinimum: 1000,
        versionPriority: 15,
        insecureSkipTLSVerify: true,
        service: { namespace: ns, name: 'backend', port: 443 },
      },
    };
    await dyn.apply(apiService, { fieldManager: 'lifeline-test' });
    try {
      const res = await waitFor(
        'broken group reported',
        async () => {
          const r = await discoverResources(cluster.kc, { timeoutMs: 5000 });
          return r.failures.some((f) => f.group === 'broken.lifeline.dev') ? r : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      const failure = res.failures.find((f) => f.group === 'broken.lifeline.dev');
      assert.equal(failure?.groupVersion, 'broken.lifeline.dev/v1beta1');
      assert.equal(failure.statusCode, 503);
      assert.ok(failure.message.length > 0);
      assert.deepEqual(
        res.failures.map((f) => f.groupVersion),
        ['broken.lifeline.dev/v1beta1'],
        'only the broken group fails',
      );
      // Everything else is still discovered.
      assert.ok(findResourceByKind(res, '', 'Pod'));
      assert.ok(findResourceByKind(res, 'test.lifeline.dev', 'Widget'));
    } finally {
      await cluster.kc
        .makeApiClient(ApiregistrationV1Api)
        .deleteAPIService({ name: 'v1beta1.broken.lifeline.dev' });
    }
  });
});

describe('eviction', () => {
  it('is refused with 429 while a PodDisruptionBudget blocks it, and succeeds once the budget allows', async () => {
    const ns = await cluster.createNamespace('evict');
    await dyn.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'nginx' }] },
          },
        },
      },
      { fieldManager: 'lifeline-test' },
    );
    const pods = await cluster.waitForPods(
      ns,
      'app=web',
      (ps) =>
        ps.length === 2 &&
        ps.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
    );
    const pdb = {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web-pdb', namespace: ns },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
    };
    await dyn.apply(pdb, { fieldManager: 'lifeline-test' });
    const policy = cluster.kc.makeApiClient(PolicyV1Api);
    const pdbSettled = (allowed: number) =>
      waitFor(`PDB disruptionsAllowed=${allowed}`, async () => {
        const p = await policy.readNamespacedPodDisruptionBudget({ name: 'web-pdb', namespace: ns });
        return p.status?.observedGeneration === p.metadata?.generation &&
          p.status?.disruptionsAllowed === allowed
          ? true
          : undefined;
      });
    await pdbSettled(0);

    const victim = pods[0]?.metadata?.name ?? '';
    const blocked = await evictPod(cluster.kc, ns, victim);
    assert.ok(blocked.outcome === 'blocked', `expected blocked, got ${blocked.outcome}`);
    assert.equal(blocked.statusCode, 429);
    assert.deepEqual(blocked.budgets, ['web-pdb']);
    assert.match(blocked.message, /disruption budget/);
    // kube-apiserver 1.34 sends no retry-after with a PDB refusal (NewTooManyRequests(msg, 0));
    // when a server does send one it is reported (see the parseStatus test below).
    assert.equal(blocked.retryAfterSeconds, undefined);
    console.log(
      `eviction blocked: retryAfterSeconds=${blocked.retryAfterSeconds}, message="${blocked.message}"`,
    );
    // A dry run is refused the same way and the pod is untouched.
    assert.equal((await evictPod(cluster.kc, ns, victim, { dryRun: true })).outcome, 'blocked');
    // Retrying gives up with an error naming the budget.
    await assert.rejects(
      evictPodUntil(cluster.kc, ns, victim, { timeoutMs: 1000, defaultRetryMs: 300 }),
      (e: unknown) =>
        e instanceof LifelineError && e.code === 'kube.eviction-blocked' && /web-pdb/.test(e.where ?? ''),
    );

    // Retry in the background, relax the budget: the retry loop then evicts.
    const retrying = evictPodUntil(cluster.kc, ns, victim, { timeoutMs: 60_000, defaultRetryMs: 300 });
    let settled = false;
    void retrying.finally(() => (settled = true)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(settled, false, 'still blocked while the budget allows no disruption');
    const beforeRelax = await cluster.core.readNamespacedPod({ name: victim, namespace: ns });
    assert.equal(beforeRelax.metadata?.deletionTimestamp, undefined, 'nothing evicted while blocked');
    await dyn.apply({ ...pdb, spec: { ...pdb.spec, minAvailable: 1 } }, { fieldManager: 'lifeline-test' });
    await pdbSettled(1);
    assert.deepEqual(await retrying, { outcome: 'evicted', namespace: ns, name: victim, dryRun: false });
    await waitFor('evicted pod terminating or gone', async () => {
      const list = await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
      const p = list.items.find((x) => x.metadata?.name === victim);
      return p === undefined || p.metadata?.deletionTimestamp !== undefined ? true : undefined;
    });

    // The Deployment replaces it; a dry-run eviction of the other pod is then allowed and changes nothing.
    const other = pods[1]?.metadata?.name ?? '';
    await pdbSettled(1);
    const dry = await evictPod(cluster.kc, ns, other, { dryRun: true });
    assert.deepEqual(dry, { outcome: 'evicted', namespace: ns, name: other, dryRun: true });
    const stillThere = await cluster.core.readNamespacedPod({ name: other, namespace: ns });
    assert.equal(stillThere.metadata?.deletionTimestamp, undefined, 'dry run did not evict');
    assert.deepEqual(await evictPod(cluster.kc, ns, 'no-such-pod'), {
      outcome: 'not-found',
      namespace: ns,
      name: 'no-such-pod',
    });
  });
});

describe('Status parsing', () => {
  it('reads retry-after from details or the Retry-After header, and PDB causes', () => {
    const body = JSON.stringify({
      kind: 'Status',
      code: 429,
      reason: 'TooManyRequests',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: {
        causes: [
          {
            reason: 'DisruptionBudget',
            message: 'The disruption budget pdb needs 2 healthy pods and has 2 currently',
          },
        ],
      },
    });
    const fromHeader = parseStatus(429, body, { 'Retry-After': '7' });
    assert.equal(fromHeader.retryAfterSeconds, 7);
    assert.equal(fromHeader.reason, 'TooManyRequests');
    assert.equal(fromHeader.causes[0]?.reason, 'DisruptionBudget');
    const fromDetails = parseStatus(429, JSON.stringify({ code: 429, details: { retryAfterSeconds: 3 } }));
    assert.equal(fromDetails.retryAfterSeconds, 3);
    assert.equal(parseStatus(502, '<html>bad gateway</html>').message, '<html>bad gateway</html>');
  });
});
