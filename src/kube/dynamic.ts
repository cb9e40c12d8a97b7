import { KubernetesObjectApi, type KubeConfig, type V1APIResource } from '@kubernetes/client-node';
import { LifelineError } from '../core/errors.ts';
import { KubeApiError, toKubeError } from './errors.ts';
import { kubeGetJson, kubeRequest } from './http.ts';
import { describeObject, resourcePath } from './resources.ts';
import type { KubeObjectLike } from './types.ts';

/** Server-side apply settings. */
export interface ApplyOptions {
  /** Field manager that will own the applied fields (required by the API, ≤ 128 printable chars). */
  fieldManager: string;
  /** Take over fields owned by other managers instead of failing with a conflict. Default: false. */
  force?: boolean;
  /** Validate and default on the server (`dryRun=All`) without persisting anything. Default: false. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

/** One field another manager owns, from a 409 apply conflict. */
export interface ApplyConflict {
  /** Field path, e.g. `.data.key`. */
  field: string | undefined;
  /** The manager that owns it, e.g. `kubectl`. */
  manager: string | undefined;
  message: string;
}

/** A server-side apply refused because other field managers own some of the fields. */
export class ApplyConflictError extends KubeApiError {
  readonly conflicts: ApplyConflict[];
  constructor(obj: KubeObjectLike, err: KubeApiError) {
    super(`server-side apply of ${describeObject(obj)} conflicts with other field managers`, err.status, {
      where: describeObject(obj),
      fix: 'drop the conflicting fields from the applied object, or apply with force to take ownership',
      cause: err,
    });
    this.name = 'ApplyConflictError';
    this.conflicts = err.status.causes.map((c) => ({
      field: c.field,
      manager: /conflict with "([^"]+)"/.exec(c.message ?? '')?.[1],
      message: c.message ?? '',
    }));
  }
}

/**
 * A generic client for any GVK: the resource (plural, scope) comes from KubernetesObjectApi's
 * discovery (cached per apiVersion, refreshed when a kind is missing, so new CRDs are found);
 * bodies travel as raw JSON.
 *
 * Why not `KubernetesObjectApi.patch`: it runs bodies through the typed model serializer, which
 * drops fields whose model name differs from the JSON name (`enum`/`default` in CRD schemas,
 * NetworkPolicy `from`, LimitRange `default`): silent data loss for a restore tool.
 */
export class DynamicClient extends KubernetesObjectApi {
  private kubeConfig: KubeConfig | undefined;

  /** Creates a DynamicClient; namespaced objects without a namespace go to the context's default namespace. */
  static forConfig(kc: KubeConfig): DynamicClient {
    const client = kc.makeApiClient(DynamicClient);
    client.setDefaultNamespace(kc);
    client.kubeConfig = kc;
    return client;
  }

  private get config(): KubeConfig {
    if (this.kubeConfig === undefined) {
      throw new LifelineError('kube.dynamic', 'DynamicClient was built without a KubeConfig', {
        fix: 'create it with DynamicClient.forConfig(kc)',
      });
    }
    return this.kubeConfig;
  }

  /** The API resource (plural name, namespaced, verbs) serving `kind` in `apiVersion`, or undefined. */
  async resourceFor(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    return this.resource(apiVersion, kind);
  }

  /**
   * The request path of an object (`/apis/apps/v1/namespaces/ns/deployments/name`) and the
   * namespace it lives in (`''` for cluster-scoped).
   */
  async locate(obj: KubeObjectLike): Promise<{ path: string; namespace: string }> {
    const where = describeObject(obj);
    const apiVersion = obj.apiVersion ?? 'v1';
    const kind = obj.kind;
    const name = obj.metadata?.name;
    if (kind === undefined || kind === '' || name === undefined || name === '') {
      throw new LifelineError('kube.object', 'the object needs kind and metadata.name', { where });
    }
    let r: V1APIResource | undefined;
    try {
      r = await this.resource(apiVersion, kind);
    } catch (err) {
      throw toKubeError(`cannot discover the resource for ${apiVersion} ${kind}`, where, err);
    }
    if (r === undefined) {
      throw new LifelineError('kube.unknown-kind', `the cluster serves no ${kind} in ${apiVersion}`, {
        where,
        fix: 'install the CRD or API that serves this kind, or fix apiVersion/kind',
      });
    }
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    const namespace = r.namespaced ? (obj.metadata?.namespace ?? this.defaultNamespace) : '';
    const path = resourcePath(
      { group: group ?? '', version: version ?? apiVersion, resource: r.name },
      namespace,
      name,
    );
    return { path, namespace };
  }

  /** Reads an object as raw JSON; `undefined` when it does not exist. */
  async getObject<T extends KubeObjectLike>(obj: KubeObjectLike): Promise<T | undefined> {
    const { path } = await this.locate(obj);
    try {
      return await kubeGetJson<T>(this.config, { path });
    } catch (err) {
      if (err instanceof KubeApiError && err.status.code === 404) return undefined;
      throw toKubeError(`cannot read ${describeObject(obj)}`, describeObject(obj), err);
    }
  }

  /**
   * Server-side apply (`PATCH` with `application/apply-patch+yaml`): creates the object or updates
   * the fields `fieldManager` owns. Returns the object as the server stored it (or would store it,
   * with `dryRun`). Conflicts throw {@link ApplyConflictError} listing the fields and their owners.
   *
   * `obj` is wire JSON (YAML, informer objects, raw reads), not a model instance returned by the
   * typed clients: those carry renamed fields (`_from`, `_enum`, `_default`) the API ignores.
   */
  async apply<T extends KubeObjectLike>(obj: T, opts: ApplyOptions): Promise<T> {
    const where = describeObject(obj);
    if (opts.fieldManager === '') {
      throw new LifelineError('kube.apply', 'server-side apply needs a field manager', {
        where,
        fix: 'pass fieldManager (e.g. "lifeline")',
      });
    }
    const { path, namespace } = await this.locate(obj);
    // The body must name the namespace the URL names.
    const body = namespace === '' ? obj : { ...obj, metadata: { ...obj.metadata, namespace } };
    try {
      const res = await kubeRequest(this.config, {
        method: 'PATCH',
        path,
        query: {
          fieldManager: opts.fieldManager,
          force: opts.force === true ? true : undefined,
          dryRun: opts.dryRun === true ? 'All' : undefined,
        },
        body,
        contentType: 'application/apply-patch+yaml',
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
      return JSON.parse(res.text) as T;
    } catch (err) {
      if (err instanceof KubeApiError && err.status.code === 409 && err.status.causes.length > 0) {
        throw new ApplyConflictError(obj, err);
      }
      throw toKubeError(`server-side apply of ${where} failed`, where, err);
    }
  }
}
