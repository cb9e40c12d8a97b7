import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '../core/clock.ts';
import { startLifelineServer, type LifelineServer } from '../api/bootstrap.ts';
import { parseConfig } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { deployDemoApp } from './demo-app.ts';
import { probe } from './https.ts';
import { motoClientConfig, startMoto, type MotoServer } from './moto.ts';

/** Options for {@link startDemo}. */
export interface DemoOptions {
  /** Directory for clusters, logs and state. */
  dir: string;
  /** Port for `lifeline serve`. Default 7420 (0 = a free port). */
  port?: number;
  /** Fake nodes per cluster. Default 3. */
  nodes?: number;
  logger: Logger;
  /** Called with a line for each step, for progress output. */
  onStep?: (line: string) => void;
}

/** Everything `make demo` runs. */
export interface Demo {
  primary: Cluster;
  standby: Cluster;
  moto: MotoServer;
  server: LifelineServer['server'];
  /** Where the server keeps its SQLite Store and its API token. */
  stateDir: string;
  bucket: string;
  applied: string[];
  stop(): Promise<void>;
}

/** The bucket the demo creates in moto for backups. */
export const DEMO_BUCKET = 'lifeline-backups';

/**
 * Brings up the demo environment: primary and standby sandboxes, moto (S3 with the backup
 * bucket), the "shop" application on the primary, and the Lifeline server on 127.0.0.1.
 * On failure it stops whatever it had started.
 */
export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const step = opts.onStep ?? (() => undefined);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    await rm(opts.dir, { recursive: true, force: true });
    step('starting primary and standby sandbox clusters');
    const clusterOpts = { nodes: opts.nodes ?? 3, baseDir: opts.dir };
    const [primary, standby] = await Promise.all([
      startCluster({ name: 'primary', ...clusterOpts }),
      startCluster({ name: 'standby', ...clusterOpts }),
    ]);
    stops.push(
      () => primary.stop(),
      () => standby.stop(),
    );
    step('starting moto (S3 and other AWS APIs on 127.0.0.1)');
    const moto = await startMoto({ logDir: join(opts.dir, 'logs') });
    stops.push(() => moto.stop());
    const s3 = new S3Client(motoClientConfig(moto.endpoint));
    await s3.send(new CreateBucketCommand({ Bucket: DEMO_BUCKET }));
    s3.destroy();
    step('deploying the demo application "shop" to the primary');
    const kc = new KubeConfig();
    kc.loadFromFile(primary.kubeconfigPath);
    const applied = await deployDemoApp(kc);
    step('waiting for the shop Deployments to be available');
    await waitForAvailable(kc, 'shop', 90_000);
    step('starting the Lifeline server (SQLite Store, S3 object store on moto)');
    const stateDir = join(opts.dir, 'lifeline');
    const config = parseConfig(
      {
        server: { host: '127.0.0.1', port: opts.port ?? 7420, apiTokenFile: join(stateDir, 'api-token') },
        store: { driver: 'sqlite', path: join(stateDir, 'lifeline.db') },
        objectStore: { driver: 's3', bucket: DEMO_BUCKET, endpoint: moto.endpoint, forcePathStyle: true },
      },
      '<demo>',
    );
    const lifeline: LifelineServer = await startLifelineServer(config, opts.logger, {
      objectStore: { credentials: motoClientConfig(moto.endpoint).credentials },
    });
    stops.push(() => lifeline.close());
    const server = lifeline.server;
    // Report success only when the server says it is ready (Store and S3 object store answer).
    const ready = await probe(`${server.url}/readyz`);
    if (ready.status !== 200) throw new Error(`lifeline server is not ready: ${ready.body}`);
    return {
      primary,
      standby,
      moto,
      server,
      stateDir,
      bucket: DEMO_BUCKET,
      applied,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Waits until every Deployment in `namespace` has all its replicas available. */
async function waitForAvailable(kc: KubeConfig, namespace: string, timeoutMs: number): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  await waitFor(
    `Deployments in ${namespace} to be available`,
    async () => {
      const list = await apps.listNamespacedDeployment({ namespace });
      const ok = list.items.every((d) => (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1));
      return list.items.length > 0 && ok ? true : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}
