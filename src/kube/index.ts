/**
 * Kubernetes access for Lifeline, on @kubernetes/client-node 1.4: typed clients from a kubeconfig,
 * an informer that never goes silent, discovery that reports broken groups, server-side apply,
 * PDB-aware eviction and Lease-based leader election.
 */
export type { KubeObjectLike, ObjectMetaLike, LeaseJson } from './types.ts';
export { loadKubeConfig, clientsFor, createKubeClients } from './client.ts';
export type { KubeConfigSource, KubeClients } from './client.ts';
export { KubeApiError, parseStatus, statusOf, statusCodeOf, toKubeError } from './errors.ts';
export type { KubeStatus } from './errors.ts';
export { kubeRequest, kubeGetJson } from './http.ts';
export type { KubeRequest, KubeResponse } from './http.ts';
export { Backoff } from './backoff.ts';
export type { BackoffOptions } from './backoff.ts';
export { apiVersionOf, groupVersionPath, resourcePath, objectKey, describeObject } from './resources.ts';
export type { ResourceRef } from './resources.ts';
export { Informer, startInformer } from './informer.ts';
export type {
  InformerOptions,
  InformerHandlers,
  InformerStatus,
  InformerErrorEvent,
  DeleteInfo,
  RelistInfo,
  RelistReason,
} from './informer.ts';
export { discoverResources, findResourceByKind } from './discovery.ts';
export type {
  DiscoveryResult,
  DiscoveredResource,
  DiscoveredGroup,
  DiscoveryFailure,
  DiscoveryOptions,
} from './discovery.ts';
export { DynamicClient, ApplyConflictError } from './dynamic.ts';
export type { ApplyOptions, ApplyConflict } from './dynamic.ts';
export { evictPod, evictPodUntil } from './eviction.ts';
export type { EvictionResult, EvictOptions, EvictUntilOptions } from './eviction.ts';
export { LeaderElector, LeadershipEndedError, microTime } from './leader-election.ts';
export type {
  LeaderElectionOptions,
  LeaderCallbacks,
  LeadershipEndReason,
  TermResult,
} from './leader-election.ts';
