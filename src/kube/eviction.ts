import type { KubeConfig } from '@kubernetes/client-node';
import { sleep } from '../core/clock.ts';
import { LifelineError } from '../core/errors.ts';
import { statusOf, toKubeError } from './errors.ts';
import { kubeRequest } from './http.ts';

/** What happened to an eviction request. */
export type EvictionResult =
  | { outcome: 'evicted'; namespace: string; name: string; dryRun: boolean }
  | { outcome: 'not-found'; namespace: string; name: string }
  | {
      /** The API refused with 429: a PodDisruptionBudget allows no disruption now. */
      outcome: 'blocked';
      namespace: string;
      name: string;
      statusCode: 429;
      /** Seconds the server asked to wait (details.retryAfterSeconds or Retry-After). */
      retryAfterSeconds: number | undefined;
      /** PodDisruptionBudgets named in the refusal. */
      budgets: string[];
      message: string;
    };

/** Options of {@link evictPod}. */
export interface EvictOptions {
  /** Grace period for the pod's termination. Default: the pod's own. */
  gracePeriodSeconds?: number;
  /** Ask the server to check the eviction (PDBs included) without evicting. Default: false. */
  dryRun?: boolean;
  /** Only evict this exact pod (guards against a same-named replacement). Default: no precondition. */
  uid?: string;
  signal?: AbortSignal;
}

/**
 * Evicts a pod through the policy/v1 Eviction subresource, so PodDisruptionBudgets are honoured
 * by the apiserver. A 429 refusal is a result (`blocked`, with retry-after and the budgets), not an
 * exception; other failures throw a LifelineError.
 */
export async function evictPod(
  kc: KubeConfig,
  namespace: string,
  name: string,
  opts: EvictOptions = {},
): Promise<EvictionResult> {
  const deleteOptions = {
    ...(opts.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: opts.gracePeriodSeconds }),
    ...(opts.dryRun === true ? { dryRun: ['All'] } : {}),
    ...(opts.uid === undefined ? {} : { preconditions: { uid: opts.uid } }),
  };
  try {
    await kubeRequest(kc, {
      method: 'POST',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/eviction`,
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name, namespace },
        ...(Object.keys(deleteOptions).length === 0 ? {} : { deleteOptions }),
      },
      query: { dryRun: opts.dryRun === true ? 'All' : undefined },
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
    return { outcome: 'evicted', namespace, name, dryRun: opts.dryRun === true };
  } catch (err) {
    const status = statusOf(err);
    if (status?.code === 404) return { outcome: 'not-found', namespace, name };
    if (status?.code === 429) {
      const budgets = status.causes
        .filter((c) => c.reason === 'DisruptionBudget')
        .map((c) => /disruption budget (\S+)/.exec(c.message ?? '')?.[1])
        .filter((b): b is string => b !== undefined);
      return {
        outcome: 'blocked',
        namespace,
        name,
        statusCode: 429,
        retryAfterSeconds: status.retryAfterSeconds,
        budgets,
        message: status.message,
      };
    }
    throw toKubeError(`eviction of pod ${namespace}/${name} failed`, `pod ${namespace}/${name}`, err);
  }
}

/** Options of {@link evictPodUntil}. */
export interface EvictUntilOptions extends EvictOptions {
  /** Give up after this long. Default: 300 000 ms. */
  timeoutMs?: number;
  /** Wait when the server sent no retry-after. Default: 5 000 ms. */
  defaultRetryMs?: number;
}

/**
 * Retries {@link evictPod} while a budget blocks it, waiting as long as the server asks.
 * Throws a LifelineError naming the budgets when `timeoutMs` passes.
 */
export async function evictPodUntil(
  kc: KubeConfig,
  namespace: string,
  name: string,
  opts: EvictUntilOptions = {},
): Promise<Exclude<EvictionResult, { outcome: 'blocked' }>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  for (;;) {
    const res = await evictPod(kc, namespace, name, opts);
    if (res.outcome !== 'blocked') return res;
    const waitMs =
      res.retryAfterSeconds === undefined ? (opts.defaultRetryMs ?? 5000) : res.retryAfterSeconds * 1000;
    if (Date.now() + waitMs > deadline) {
      const budgets = res.budgets.length > 0 ? ` (PodDisruptionBudget ${res.budgets.join(', ')})` : '';
      throw new LifelineError(
        'kube.eviction-blocked',
        `eviction of pod ${namespace}/${name} stayed blocked: ${res.message}`,
        {
          where: `pod ${namespace}/${name}${budgets}`,
          fix: 'wait for more replicas to become ready, or relax the PodDisruptionBudget',
        },
      );
    }
    await sleep(waitMs, opts.signal);
  }
}
