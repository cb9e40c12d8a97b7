import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startCluster } from '../../src/sandbox/cluster.ts';
import { pidAlive } from '../../src/sandbox/process.ts';

describe('two sandboxes side by side', () => {
  it('runs a primary and a standby independently, and leaves no process after stop', async () => {
    const baseDir = await mkdtemp(join(tmpdir(), 'lifeline-two-'));
    const [primary, standby] = await Promise.all([
      startCluster({ name: 'primary', nodes: 2, baseDir }),
      startCluster({ name: 'standby', nodes: 2, baseDir }),
    ]);
    try {
      assert.notEqual(primary.server, standby.server);
      const client = (path: string): CoreV1Api => {
        const kc = new KubeConfig();
        kc.loadFromFile(path);
        return kc.makeApiClient(CoreV1Api);
      };
      const p = client(primary.kubeconfigPath);
      const s = client(standby.kubeconfigPath);
      await p.createNamespace({ body: { metadata: { name: 'only-on-primary' } } });
      const names = (await s.listNamespace()).items.map((n) => n.metadata?.name);
      assert.ok(!names.includes('only-on-primary'), 'the standby must not see the primary namespace');
      assert.equal((await s.listNode()).items.length, 2);
    } finally {
      const pids = [...Object.values(primary.pids()), ...Object.values(standby.pids())];
      await Promise.all([primary.stop(), standby.stop()]);
      assert.equal(pids.length, 10);
      assert.deepEqual(
        pids.filter((pid) => pidAlive(pid)),
        [],
        'every component process must be gone after stop',
      );
      await rm(baseDir, { recursive: true, force: true });
    }
  });
});
