/**
 * Plain JSON shapes as the apiserver sends them. client-node's generated models are classes whose
 * timestamps are Dates; objects read raw (watch events, discovery, raw requests) are plain JSON
 * with string timestamps, so Lifeline types them with these.
 */

/** The metadata fields Lifeline reads; V1ObjectMeta instances satisfy it too. */
export interface ObjectMetaLike {
  name?: string | undefined;
  namespace?: string | undefined;
  resourceVersion?: string | undefined;
  uid?: string | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
}

/** Any Kubernetes object (typed model instances and plain JSON both fit). */
export interface KubeObjectLike {
  apiVersion?: string | undefined;
  kind?: string | undefined;
  metadata?: ObjectMetaLike | undefined;
}

/** coordination.k8s.io/v1 Lease as JSON (MicroTime strings, not Dates). */
export interface LeaseJson {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: ObjectMetaLike & { name: string; namespace: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
    [field: string]: unknown;
  };
}
