import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '../core/clock.ts';
import { LifelineError } from '../core/errors.ts';
import { assertBinaries, resolveBinDir, stagesDir } from './binaries.ts';
import { probe } from './https.ts';
import { kwokConfigYaml } from './kwok-stages.ts';
import { freePorts } from './ports.ts';
import { startProcess, type ManagedProcess } from './process.ts';

/** The control-plane components of a sandbox, in start order. */
export const COMPONENTS = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** Address ranges every sandbox keeps on loopback (see sandbox.md, "Network safety"). */
export const SANDBOX_RANGES = {
  serviceCidr: '127.96.0.0/16',
  podCidr: '127.200.0.0/16',
  nodeIp: '127.0.0.1',
} as const;

/** Options for {@link startCluster}. */
export interface ClusterOptions {
  /** Cluster name; also the directory name under `baseDir`. */
  name: string;
  /** Number of kwok fake nodes. Default 3. */
  nodes?: number;
  /** Parent directory of the cluster's directory. Required. */
  baseDir: string;
  /** Binary directory. Default: {@link resolveBinDir}. */
  binDir?: string;
  /** Readiness timeout per component. Default 60 s. */
  readyTimeoutMs?: number;
  /**
   * `scale` (default) raises the controllers' and scheduler's client rate limits (20 → 1000 qps)
   * and the apiserver's in-flight limits, so bulk loads are not throttled; `stock` keeps the
   * upstream defaults (used as the benchmark baseline).
   */
  tuning?: 'scale' | 'stock';
}

/** Ports one cluster uses, all on 127.0.0.1. */
export interface ClusterPorts {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwokServer: number;
  kwokNode: number;
}

/** A running sandbox cluster. */
export interface Cluster {
  readonly name: string;
  /** The cluster's own directory (data, certs, logs, kubeconfig). */
  readonly dir: string;
  readonly logDir: string;
  readonly kubeconfigPath: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  readonly ports: ClusterPorts;
  /** PIDs of the running components. */
  pids(): Partial<Record<ComponentName, number>>;
  /** Stops one component (SIGTERM, then SIGKILL). */
  stopComponent(name: ComponentName): Promise<void>;
  /** Starts a stopped component again with the same flags and ports; waits for readiness. */
  startComponent(name: ComponentName): Promise<void>;
  /** Resolves when any component exits unexpectedly, with its name. */
  readonly unexpectedExit: Promise<ComponentName>;
  /** Stops every component in reverse order. Removes the directory when `removeFiles` (default false). */
  stop(opts?: { removeFiles?: boolean }): Promise<void>;
}

interface Prepared {
  tuning: 'scale' | 'stock';
  dir: string;
  logDir: string;
  binDir: string;
  ports: ClusterPorts;
  token: string;
  kubeconfigPath: string;
}

function componentArgs(p: Prepared, name: ComponentName): { command: string; args: string[] } {
  const { dir, ports, kubeconfigPath } = p;
  const bin = (b: string): string => join(p.binDir, b);
  const scale = p.tuning === 'scale';
  const clientQps = scale ? ['--kube-api-qps=1000', '--kube-api-burst=2000'] : [];
  switch (name) {
    case 'etcd':
      return {
        command: bin('etcd'),
        args: [
          '--name=node0',
          `--data-dir=${join(dir, 'etcd')}`,
          `--listen-client-urls=http://127.0.0.1:${ports.etcdClient}`,
          `--advertise-client-urls=http://127.0.0.1:${ports.etcdClient}`,
          `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
          `--initial-cluster=node0=http://127.0.0.1:${ports.etcdPeer}`,
          '--listen-metrics-urls=',
          '--unsafe-no-fsync=true',
          '--log-level=warn',
        ],
      };
    case 'kube-apiserver':
      return {
        command: bin('kube-apiserver'),
        args: [
          `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${ports.apiserver}`,
          `--cert-dir=${join(dir, 'certs')}`,
          '--advertise-address=127.0.0.1',
          '--endpoint-reconciler-type=none',
          `--service-cluster-ip-range=${SANDBOX_RANGES.serviceCidr}`,
          '--allow-privileged=true',
          '--authorization-mode=RBAC',
          `--token-auth-file=${join(dir, 'tokens.csv')}`,
          `--service-account-issuer=https://127.0.0.1:${ports.apiserver}/`,
          `--service-account-key-file=${join(dir, 'sa.pub')}`,
          `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
          ...(scale ? ['--max-requests-inflight=2000', '--max-mutating-requests-inflight=1000'] : []),
          '--v=1',
        ],
      };
    case 'kube-controller-manager':
      return {
        command: bin('kube-controller-manager'),
        args: [
          `--kubeconfig=${kubeconfigPath}`,
          `--authentication-kubeconfig=${kubeconfigPath}`,
          `--authorization-kubeconfig=${kubeconfigPath}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${ports.controllerManager}`,
          '--leader-elect=false',
          `--service-account-private-key-file=${join(dir, 'sa.key')}`,
          `--root-ca-file=${join(dir, 'certs', 'apiserver.crt')}`,
          '--use-service-account-credentials=true',
          '--controllers=*,-nodeipam',
          ...clientQps,
          '--v=1',
        ],
      };
    case 'kube-scheduler':
      return {
        command: bin('kube-scheduler'),
        args: [
          `--kubeconfig=${kubeconfigPath}`,
          `--authentication-kubeconfig=${kubeconfigPath}`,
          `--authorization-kubeconfig=${kubeconfigPath}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${ports.scheduler}`,
          '--leader-elect=false',
          ...clientQps,
          '--v=1',
        ],
      };
    case 'kwok':
      return {
        command: bin('kwok'),
        args: [
          `--kubeconfig=${kubeconfigPath}`,
          '--manage-all-nodes=true',
          `--config=${join(dir, 'kwok.yaml')}`,
          `--server-address=127.0.0.1:${ports.kwokServer}`,
          `--cidr=${SANDBOX_RANGES.podCidr}`,
          `--node-ip=${SANDBOX_RANGES.nodeIp}`,
          `--node-port=${ports.kwokNode}`,
        ],
      };
  }
}

function kubeconfigYaml(name: string, server: string, caPem: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: ${server}
    certificate-authority-data: ${ca}
users:
- name: ${name}-admin
  user:
    token: ${token}
contexts:
- name: ${name}
  context:
    cluster: ${name}
    user: ${name}-admin
current-context: ${name}
`;
}

/** Node objects for kwok: annotation `kwok.x-k8s.io/node: fake`, no taints. */
function fakeNode(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        type: 'kwok',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/role': 'agent',
      },
    },
    status: {
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
    },
  };
}

/**
 * Starts a sandbox cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
 * kwok with `nodes` fake nodes, all on 127.0.0.1 and free ports, every dialable range on
 * loopback. Resolves when the apiserver is ready and every node is Ready. On failure, stops
 * what it started and rethrows with the component's log path.
 */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const binDir = opts.binDir ?? resolveBinDir();
  assertBinaries(binDir);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const dir = join(opts.baseDir, opts.name);
  const logDir = join(dir, 'logs');
  await mkdir(join(dir, 'certs'), { recursive: true });
  await mkdir(logDir, { recursive: true });

  const free = await freePorts(7);
  const port = (i: number): number => {
    const p = free[i];
    if (p === undefined) throw new Error('freePorts returned too few ports');
    return p;
  };
  const ports: ClusterPorts = {
    etcdClient: port(0),
    etcdPeer: port(1),
    apiserver: port(2),
    controllerManager: port(3),
    scheduler: port(4),
    kwokServer: port(5),
    kwokNode: port(6),
  };
  const token = randomBytes(24).toString('hex');
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(join(dir, 'tokens.csv'), `${token},admin,admin,system:masters\n`, { mode: 0o600 });
  await writeFile(join(dir, 'kwok.yaml'), await kwokConfigYaml(stagesDir(binDir)));

  const server = `https://127.0.0.1:${ports.apiserver}`;
  const kubeconfigPath = join(dir, 'kubeconfig');
  const prepared: Prepared = {
    tuning: opts.tuning ?? 'scale',
    dir,
    logDir,
    binDir,
    ports,
    token,
    kubeconfigPath,
  };
  const procs = new Map<ComponentName, ManagedProcess>();
  const intentionallyStopped = new Set<ComponentName>();
  let stopping = false;
  let reportExit: (name: ComponentName) => void = () => undefined;
  const unexpectedExit = new Promise<ComponentName>((resolve) => {
    reportExit = resolve;
  });
  let caPem = '';

  const waitReady = async (name: ComponentName): Promise<void> => {
    const proc = procs.get(name);
    const died = proc?.exited.then((e) => {
      throw new LifelineError(
        'sandbox.start',
        `${name} exited during start-up (code ${e.code}, signal ${e.signal})`,
        {
          where: proc.logFile,
          fix: `read the log at ${proc.logFile}`,
        },
      );
    });
    const ready = (async () => {
      switch (name) {
        case 'etcd':
          await waitFor(
            'etcd /health',
            async () => {
              const r = await probe(`http://127.0.0.1:${ports.etcdClient}/health`);
              return r.body.includes('"health":"true"') ? true : undefined;
            },
            { timeoutMs: readyTimeoutMs },
          );
          return;
        case 'kube-apiserver':
          caPem = await waitFor(
            'apiserver certificate',
            async () => {
              try {
                return await readFile(join(dir, 'certs', 'apiserver.crt'), 'utf8');
              } catch {
                return undefined;
              }
            },
            { timeoutMs: readyTimeoutMs, intervalMs: 100 },
          );
          await waitFor(
            'kube-apiserver /readyz',
            async () =>
              (await probe(`${server}/readyz`, { ca: caPem, token })).status === 200 ? true : undefined,
            { timeoutMs: readyTimeoutMs },
          );
          await writeFile(kubeconfigPath, kubeconfigYaml(opts.name, server, caPem, token), { mode: 0o600 });
          return;
        case 'kube-controller-manager':
        case 'kube-scheduler': {
          const port = name === 'kube-scheduler' ? ports.scheduler : ports.controllerManager;
          await waitFor(
            `${name} /healthz`,
            async () =>
              (await probe(`https://127.0.0.1:${port}/healthz`, { token, insecureSkipVerify: true }))
                .status === 200
                ? true
                : undefined,
            { timeoutMs: readyTimeoutMs },
          );
          return;
        }
        case 'kwok':
          await waitFor(
            'kwok /healthz',
            async () =>
              (await probe(`http://127.0.0.1:${ports.kwokServer}/healthz`)).status === 200 ? true : undefined,
            { timeoutMs: readyTimeoutMs },
          );
          return;
      }
    })();
    await Promise.race([ready, died]);
    died?.catch(() => undefined);
  };

  const start = async (name: ComponentName): Promise<void> => {
    const { command, args } = componentArgs(prepared, name);
    const proc = await startProcess({ name, command, args, logDir });
    procs.set(name, proc);
    intentionallyStopped.delete(name);
    void proc.exited.then(() => {
      if (!stopping && !intentionallyStopped.has(name) && procs.get(name) === proc) reportExit(name);
    });
    await waitReady(name);
  };

  const stopAll = async (): Promise<void> => {
    stopping = true;
    for (const name of [...COMPONENTS].reverse()) {
      await procs.get(name)?.stop(5000);
    }
  };

  try {
    for (const name of COMPONENTS) {
      await start(name);
    }
    await createNodes(kubeconfigPath, opts.nodes ?? 3, readyTimeoutMs);
  } catch (err) {
    await stopAll();
    throw err;
  }

  return {
    name: opts.name,
    dir,
    logDir,
    kubeconfigPath,
    server,
    ports,
    unexpectedExit,
    pids: () => Object.fromEntries([...procs].filter(([, p]) => p.running()).map(([n, p]) => [n, p.pid])),
    stopComponent: async (name) => {
      intentionallyStopped.add(name);
      await procs.get(name)?.stop(5000);
    },
    startComponent: async (name) => {
      if (procs.get(name)?.running() === true) return;
      await start(name);
    },
    stop: async (o = {}) => {
      await stopAll();
      if (o.removeFiles === true) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Creates `count` kwok nodes (`kwok-node-0` …) and waits until all are Ready. */
async function createNodes(kubeconfigPath: string, count: number, timeoutMs: number): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const names = Array.from({ length: count }, (_, i) => `kwok-node-${i}`);
  // Bounded concurrency: 100 nodes go in batches of 20.
  for (let i = 0; i < names.length; i += 20) {
    await Promise.all(names.slice(i, i + 20).map((n) => core.createNode({ body: fakeNode(n) })));
  }
  await waitFor(
    `${count} Ready nodes`,
    async () => {
      const list = await core.listNode();
      const ready = list.items.filter((n) =>
        n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length;
      return ready >= count ? true : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}
