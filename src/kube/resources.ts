import type { KubeObjectLike } from './types.ts';

/** A resource type as the API serves it: group (`''` for core), version and plural name. */
export interface ResourceRef {
  /** API group; `''` for the core group (`/api/v1`). */
  group: string;
  version: string;
  /** Plural resource name, e.g. `pods`, `deployments`. */
  resource: string;
}

/** `/api/v1` for the core group, `/apis/<group>/<version>` otherwise. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
}

/** `apps/v1`, or `v1` for the core group. */
export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/**
 * The collection path of a resource, optionally in one namespace, optionally one object:
 * `/apis/apps/v1/namespaces/ns/deployments/name`. Without a namespace a namespaced resource is
 * listed across all namespaces.
 */
export function resourcePath(ref: ResourceRef, namespace?: string, name?: string): string {
  const ns =
    namespace === undefined || namespace === '' ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  const obj = name === undefined ? '' : `/${encodeURIComponent(name)}`;
  return `${groupVersionPath(ref.group, ref.version)}${ns}/${ref.resource}${obj}`;
}

/** `ns/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: KubeObjectLike): string {
  const ns = obj.metadata?.namespace ?? '';
  const name = obj.metadata?.name ?? '';
  return ns === '' ? name : `${ns}/${name}`;
}

/** A readable reference for errors: `Deployment apps/v1 ns/name`. */
export function describeObject(obj: KubeObjectLike): string {
  return `${obj.kind ?? '?'} ${obj.apiVersion ?? '?'} ${objectKey(obj)}`;
}
