import type { KubeConfig } from '@kubernetes/client-node';
import { errorMessage } from '../core/errors.ts';
import { statusOf, toKubeError } from './errors.ts';
import { kubeGetJson } from './http.ts';
import { apiVersionOf, groupVersionPath, type ResourceRef } from './resources.ts';

/** One resource type the cluster serves, at its preferred version. */
export interface DiscoveredResource extends ResourceRef {
  /** `apps/v1`, or `v1` for the core group. */
  apiVersion: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  categories: string[];
}

/** An API group version whose discovery failed (e.g. an aggregated API whose backend is down). */
export interface DiscoveryFailure {
  group: string;
  version: string;
  /** `metrics.k8s.io/v1beta1`. */
  groupVersion: string;
  /** HTTP status when the apiserver answered (503 for an unavailable APIService). */
  statusCode: number | undefined;
  message: string;
}

/** One API group and the versions it serves, most preferred first. */
export interface DiscoveredGroup {
  /** `''` for the core group. */
  name: string;
  preferredVersion: string;
  versions: string[];
}

/** The outcome of {@link discoverResources}: partial results plus every failure. */
export interface DiscoveryResult {
  groups: DiscoveredGroup[];
  resources: DiscoveredResource[];
  /** Group versions that could not be read. Empty when discovery was complete. */
  failures: DiscoveryFailure[];
}

/** Options of {@link discoverResources}. */
export interface DiscoveryOptions {
  /** Keep only resources that support all of these verbs. Default: `['list']`. */
  verbs?: string[];
  /** Timeout of each discovery request. Default: 15 000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface ApiVersions {
  versions?: string[];
}
interface ApiGroupList {
  groups?: {
    name: string;
    versions?: { groupVersion: string; version: string }[];
    preferredVersion?: { groupVersion: string; version: string };
  }[];
}
interface ApiResourceList {
  resources?: {
    name: string;
    kind: string;
    namespaced: boolean;
    verbs?: string[];
    shortNames?: string[];
    categories?: string[];
  }[];
}

/**
 * Lists every resource type the cluster serves (built-in, aggregated and CRDs), each once, at the
 * most preferred version of its group that serves it; subresources are left out.
 *
 * A group version that cannot be read is reported in `failures` and discovery continues with the
 * rest: an unavailable aggregated API never hides the other resources, and never goes unnoticed.
 * Throws only when the group list itself (`/api`, `/apis`) cannot be read.
 */
export async function discoverResources(
  kc: KubeConfig,
  opts: DiscoveryOptions = {},
): Promise<DiscoveryResult> {
  const req = {
    timeoutMs: opts.timeoutMs ?? 15_000,
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  };
  let core: ApiVersions;
  let apis: ApiGroupList;
  try {
    [core, apis] = await Promise.all([
      kubeGetJson<ApiVersions>(kc, { path: '/api', ...req }),
      kubeGetJson<ApiGroupList>(kc, { path: '/apis', ...req }),
    ]);
  } catch (err) {
    throw toKubeError('API discovery failed', kc.getCurrentCluster()?.server ?? 'apiserver', err);
  }
  const groups: DiscoveredGroup[] = [];
  const coreVersions = core.versions ?? [];
  if (coreVersions.length > 0)
    groups.push({ name: '', preferredVersion: coreVersions[0] ?? 'v1', versions: coreVersions });
  for (const g of apis.groups ?? []) {
    const versions = (g.versions ?? []).map((v) => v.version);
    const preferred = g.preferredVersion?.version ?? versions[0] ?? '';
    // Preferred first, then the server's order (which is by priority).
    groups.push({
      name: g.name,
      preferredVersion: preferred,
      versions: [preferred, ...versions.filter((v) => v !== preferred)],
    });
  }

  const wanted = opts.verbs ?? ['list'];
  const failures: DiscoveryFailure[] = [];
  const perGroup = await Promise.all(
    groups.map(async (group) => {
      const lists = await Promise.all(
        group.versions.map(async (version) => {
          try {
            return await kubeGetJson<ApiResourceList>(kc, {
              path: groupVersionPath(group.name, version),
              ...req,
            });
          } catch (err) {
            failures.push({
              group: group.name,
              version,
              groupVersion: apiVersionOf(group.name, version),
              statusCode: statusOf(err)?.code,
              message: errorMessage(err),
            });
            return undefined;
          }
        }),
      );
      const seen = new Set<string>();
      const out: DiscoveredResource[] = [];
      group.versions.forEach((version, i) => {
        for (const r of lists[i]?.resources ?? []) {
          if (r.name.includes('/') || seen.has(r.name)) continue;
          const verbs = r.verbs ?? [];
          if (!wanted.every((v) => verbs.includes(v))) continue;
          seen.add(r.name);
          out.push({
            group: group.name,
            version,
            resource: r.name,
            apiVersion: apiVersionOf(group.name, version),
            kind: r.kind,
            namespaced: r.namespaced,
            verbs,
            shortNames: r.shortNames ?? [],
            categories: r.categories ?? [],
          });
        }
      });
      return out;
    }),
  );
  failures.sort((a, b) => a.groupVersion.localeCompare(b.groupVersion));
  return { groups, resources: perGroup.flat(), failures };
}

/** Finds the discovered resource for a kind in a group (any version), or undefined. */
export function findResourceByKind(
  result: DiscoveryResult,
  group: string,
  kind: string,
): DiscoveredResource | undefined {
  return result.resources.find((r) => r.group === group && r.kind === kind);
}
