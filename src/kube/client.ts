import { existsSync } from 'node:fs';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  PolicyV1Api,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { LifelineError, errorMessage } from '../core/errors.ts';
import { DynamicClient } from './dynamic.ts';

/** Where the Kubernetes credentials come from. */
export interface KubeConfigSource {
  /**
   * Path of a kubeconfig file. Default: `$KUBECONFIG`, else `~/.kube/config`, else the in-cluster
   * service account (the client library's default order).
   */
  kubeconfigPath?: string;
  /** Context to use. Default: the kubeconfig's `current-context`. */
  context?: string;
  /** Use the pod's service account (`KUBERNETES_SERVICE_HOST`, mounted token and CA). Default: false. */
  inCluster?: boolean;
  /**
   * With `inCluster`: a directory prefixed to `/var/run/secrets/kubernetes.io/serviceaccount/`
   * (token, ca.crt, namespace), for unusual mounts and tests. Default: `''` (the standard mount).
   */
  serviceAccountRoot?: string;
}

/**
 * Loads a KubeConfig from a file, the default locations, or the in-cluster service account.
 * Throws a LifelineError naming the file or context when it cannot.
 */
export function loadKubeConfig(source: KubeConfigSource = {}): KubeConfig {
  const kc = new KubeConfig();
  const where =
    source.inCluster === true
      ? 'in-cluster service account'
      : (source.kubeconfigPath ?? 'default kubeconfig');
  try {
    if (source.inCluster === true) {
      if (process.env['KUBERNETES_SERVICE_HOST'] === undefined) {
        throw new Error('KUBERNETES_SERVICE_HOST is not set: not running in a pod');
      }
      const root = source.serviceAccountRoot ?? '';
      const tokenPath = `${root}/var/run/secrets/kubernetes.io/serviceaccount/token`;
      if (!existsSync(tokenPath)) throw new Error(`no service account token at ${tokenPath}`);
      kc.loadFromCluster(root);
    } else if (source.kubeconfigPath !== undefined) {
      if (!existsSync(source.kubeconfigPath)) throw new Error('file not found');
      kc.loadFromFile(source.kubeconfigPath);
    } else {
      kc.loadFromDefault();
    }
  } catch (err) {
    throw new LifelineError('kube.config', `cannot load Kubernetes credentials: ${errorMessage(err)}`, {
      where,
      fix: 'pass --kubeconfig <file> (and --context) or run inside a pod with a service account',
      cause: err,
    });
  }
  if (source.context !== undefined) {
    if (kc.getContextObject(source.context) === null) {
      throw new LifelineError('kube.config', `context "${source.context}" is not in the kubeconfig`, {
        where,
        fix: `use one of: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || '(none)'
        }`,
      });
    }
    kc.setCurrentContext(source.context);
  }
  if (kc.getCurrentCluster() === null) {
    throw new LifelineError('kube.config', 'the kubeconfig has no current cluster', {
      where,
      fix: 'set current-context or pass --context',
    });
  }
  return kc;
}

/** Typed API clients that share one KubeConfig. */
export interface KubeClients {
  kc: KubeConfig;
  /** The API server URL of the current context. */
  server: string;
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  policy: PolicyV1Api;
  coordination: CoordinationV1Api;
  rbac: RbacAuthorizationV1Api;
  apiextensions: ApiextensionsV1Api;
  /** Generic client for any GVK (a KubernetesObjectApi; paths through discovery, raw JSON bodies). */
  objects: DynamicClient;
}

/** Builds the typed clients for an already loaded KubeConfig. */
export function clientsFor(kc: KubeConfig): KubeClients {
  const cluster = kc.getCurrentCluster();
  return {
    kc,
    server: cluster?.server ?? '',
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    policy: kc.makeApiClient(PolicyV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    apiextensions: kc.makeApiClient(ApiextensionsV1Api),
    objects: DynamicClient.forConfig(kc),
  };
}

/** Loads credentials ({@link loadKubeConfig}) and returns the typed clients. */
export function createKubeClients(source: KubeConfigSource = {}): KubeClients {
  return clientsFor(loadKubeConfig(source));
}
