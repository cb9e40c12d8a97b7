import { performance } from 'node:perf_hooks';
import type { KubeConfig } from '@kubernetes/client-node';
import { sleep } from '../core/clock.ts';
import { LifelineError, errorMessage } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { KubeApiError } from './errors.ts';
import { kubeGetJson, kubeRequest } from './http.ts';
import type { LeaseJson } from './types.ts';

/** Settings of a {@link LeaderElector}; the defaults are client-go's. */
export interface LeaderElectionOptions {
  /** Namespace of the coordination.k8s.io/v1 Lease. */
  namespace: string;
  /** Name of the Lease. */
  name: string;
  /** This candidate's identity, unique among candidates (e.g. pod name + random suffix). */
  identity: string;
  /**
   * How long others wait, after they last saw the Lease change, before taking it over
   * (`spec.leaseDurationSeconds`, whole seconds). Default: 15.
   */
  leaseDurationSeconds?: number;
  /**
   * The leader stops leading (its AbortSignal fires) when it has not renewed successfully within
   * this long after sending its last successful renew. Must be < leaseDuration. Default: 10 000 ms.
   */
  renewDeadlineMs?: number;
  /** Pause between acquire/renew attempts (acquire adds up to 120 % jitter). Default: 2 000 ms. */
  retryPeriodMs?: number;
  /** On a voluntary stop, hand the Lease back at once (empty holder, 1 s duration). Default: true. */
  releaseOnStop?: boolean;
  /** Logger. Default: a `kube.leader` logger on stderr. */
  logger?: Logger;
}

/** Why a term of leadership ended. */
export type LeadershipEndReason =
  /** No successful renew before the renew deadline (apiserver unreachable, conflicts). */
  | 'renew-deadline'
  /** Another candidate holds the Lease. */
  | 'lost'
  /** The caller's signal aborted. */
  | 'stopped'
  /** `onStartedLeading` returned or threw: the leader steps down. */
  | 'work-finished';

/** The error a leadership AbortSignal carries as its reason. */
export class LeadershipEndedError extends Error {
  readonly reason: LeadershipEndReason;
  constructor(reason: LeadershipEndReason, identity: string, lease: string) {
    super(`${identity} is no longer leader of Lease ${lease}: ${reason}`);
    this.name = 'AbortError';
    this.reason = reason;
  }
}

/** Callbacks of one term, as in client-go. */
export interface LeaderCallbacks {
  /**
   * Runs when this candidate becomes leader. `signal` aborts the moment leadership ends; the work
   * must stop then. When the returned promise settles the leader steps down.
   */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Runs once after leadership ended (the signal has already fired). */
  onStoppedLeading?: (reason: LeadershipEndReason) => void;
  /** Runs when the observed holder changes (including to this candidate). */
  onNewLeader?: (identity: string) => void;
}

/** How a {@link LeaderElector.run} call ended. */
export type TermResult =
  { led: false } | { led: true; reason: LeadershipEndReason; acquiredAt: number; endedAt: number };

type Attempt = { kind: 'ok'; sentAt: number } | { kind: 'held'; holder: string } | { kind: 'conflict' };

/** `2026-01-02T03:04:05.123000Z`: the MicroTime format the Lease fields use. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics: a candidate takes
 * the Lease when its holder is empty or when the Lease has not changed for `leaseDurationSeconds`
 * as observed on the candidate's own monotonic clock (no clock-skew assumptions); writes are
 * optimistic updates on `metadata.resourceVersion`, so two candidates can never both win; the
 * leader renews every `retryPeriodMs` and stops leading when no renew succeeded within
 * `renewDeadlineMs` of sending the last successful one — before anyone else may take over.
 */
export class LeaderElector {
  private readonly kc: KubeConfig;
  private readonly opts: Required<Omit<LeaderElectionOptions, 'logger'>>;
  private readonly log: Logger;
  private readonly path: string;
  private observedRv = '';
  private observedAt = 0;
  private observedHolder = '';
  private leading = false;

  constructor(kc: KubeConfig, opts: LeaderElectionOptions) {
    this.kc = kc;
    this.opts = {
      namespace: opts.namespace,
      name: opts.name,
      identity: opts.identity,
      leaseDurationSeconds: opts.leaseDurationSeconds ?? 15,
      renewDeadlineMs: opts.renewDeadlineMs ?? 10_000,
      retryPeriodMs: opts.retryPeriodMs ?? 2_000,
      releaseOnStop: opts.releaseOnStop ?? true,
    };
    const o = this.opts;
    const where = `Lease ${o.namespace}/${o.name}`;
    if (o.identity === '') {
      throw new LifelineError('kube.leader-election', 'leader election needs a non-empty identity', {
        where,
      });
    }
    if (!Number.isInteger(o.leaseDurationSeconds) || o.leaseDurationSeconds < 1) {
      throw new LifelineError('kube.leader-election', 'leaseDurationSeconds must be a whole number ≥ 1', {
        where,
      });
    }
    if (!(o.leaseDurationSeconds * 1000 > o.renewDeadlineMs && o.renewDeadlineMs > o.retryPeriodMs * 1.2)) {
      throw new LifelineError(
        'kube.leader-election',
        `timings must satisfy leaseDuration > renewDeadline > 1.2 × retryPeriod (got ${o.leaseDurationSeconds} s, ${o.renewDeadlineMs} ms, ${o.retryPeriodMs} ms)`,
        { where, fix: 'use e.g. 15 s / 10 000 ms / 2 000 ms (the defaults)' },
      );
    }
    this.log = opts.logger ?? createLogger({ name: 'kube.leader' });
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(o.namespace)}/leases`;
  }

  /** True while this candidate leads (between acquire and the end of its term). */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder this candidate last observed on the Lease (`''` when released or unknown). */
  observedLeader(): string {
    return this.observedHolder;
  }

  /**
   * One term: campaigns until this candidate holds the Lease (or `signal` aborts), runs
   * `onStartedLeading` with a signal that fires when leadership ends, renews until then, and
   * releases the Lease on a voluntary stop. Call again to campaign for another term.
   */
  async run(callbacks: LeaderCallbacks, signal?: AbortSignal): Promise<TermResult> {
    const acquired = await this.acquire(callbacks, signal);
    if (acquired === undefined) return { led: false };
    return this.lead(callbacks, acquired, signal);
  }

  private async acquire(callbacks: LeaderCallbacks, signal?: AbortSignal): Promise<number | undefined> {
    const { retryPeriodMs, renewDeadlineMs } = this.opts;
    const aborted = (): boolean => signal?.aborted === true;
    while (!aborted()) {
      try {
        const r = await this.tryAcquireOrRenew(renewDeadlineMs, false, callbacks, signal);
        if (r.kind === 'ok') return r.sentAt;
      } catch (err) {
        if (aborted()) break;
        this.log.warn({ lease: this.opts.name, err: errorMessage(err) }, 'lease acquire attempt failed');
      }
      await sleep(retryPeriodMs * (1 + Math.random() * 1.2), signal).catch(() => undefined);
    }
    return undefined;
  }

  private async lead(
    callbacks: LeaderCallbacks,
    firstSentAt: number,
    signal?: AbortSignal,
  ): Promise<TermResult> {
    const { identity, renewDeadlineMs, retryPeriodMs, namespace, name } = this.opts;
    const lease = `${namespace}/${name}`;
    const acquiredAt = Date.now();
    const term = new AbortController();
    const end = (reason: LeadershipEndReason): void => {
      if (term.signal.aborted) return;
      this.leading = false;
      term.abort(new LeadershipEndedError(reason, identity, lease));
    };
    let deadlineTimer: NodeJS.Timeout | undefined;
    const armDeadline = (sentAt: number): void => {
      if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
      deadlineTimer = setTimeout(
        () => {
          end('renew-deadline');
        },
        Math.max(0, sentAt + renewDeadlineMs - performance.now()),
      );
    };
    this.leading = true;
    armDeadline(firstSentAt);
    const onStop = (): void => {
      end('stopped');
    };
    signal?.addEventListener('abort', onStop, { once: true });
    if (signal !== undefined && signal.aborted) end('stopped');
    this.log.info({ lease, identity }, 'started leading');

    const work = (async () => {
      await callbacks.onStartedLeading(term.signal);
    })();
    work.then(
      () => {
        end('work-finished');
      },
      (err: unknown) => {
        if (!term.signal.aborted) {
          this.log.error({ lease, err: errorMessage(err) }, 'leader work failed; stepping down');
        }
        end('work-finished');
      },
    );

    const ended = (): boolean => term.signal.aborted;
    while (!ended()) {
      await sleep(retryPeriodMs, term.signal).catch(() => undefined);
      if (ended()) break;
      try {
        const r = await this.tryAcquireOrRenew(
          Math.max(1, firstSentAt + renewDeadlineMs - performance.now()),
          true,
          callbacks,
          term.signal,
        );
        if (ended()) break;
        if (r.kind === 'ok') {
          firstSentAt = r.sentAt;
          armDeadline(r.sentAt);
        } else if (r.kind === 'held') {
          end('lost');
        }
      } catch (err) {
        if (!ended()) this.log.warn({ lease, err: errorMessage(err) }, 'lease renew failed');
      }
    }
    if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
    signal?.removeEventListener('abort', onStop);
    const reason = (term.signal.reason as LeadershipEndedError).reason;
    this.log.info({ lease, identity, reason }, 'stopped leading');
    try {
      callbacks.onStoppedLeading?.(reason);
    } catch (err) {
      this.log.error({ lease, err: errorMessage(err) }, 'onStoppedLeading threw');
    }
    if (this.opts.releaseOnStop && (reason === 'stopped' || reason === 'work-finished')) await this.release();
    return { led: true, reason, acquiredAt, endedAt: Date.now() };
  }

  private observe(lease: LeaseJson, callbacks: LeaderCallbacks): void {
    const rv = lease.metadata.resourceVersion ?? '';
    if (rv === this.observedRv) return;
    this.observedRv = rv;
    this.observedAt = performance.now();
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      if (holder !== '') {
        try {
          callbacks.onNewLeader?.(holder);
        } catch (err) {
          this.log.error({ err: errorMessage(err) }, 'onNewLeader threw');
        }
      }
    }
  }

  private async tryAcquireOrRenew(
    timeoutMs: number,
    renewing: boolean,
    callbacks: LeaderCallbacks,
    signal?: AbortSignal,
  ): Promise<Attempt> {
    const { identity, leaseDurationSeconds, name, namespace } = this.opts;
    const req = { timeoutMs, ...(signal === undefined ? {} : { signal }) };
    let current: LeaseJson | undefined;
    try {
      current = await kubeGetJson<LeaseJson>(this.kc, {
        path: `${this.path}/${encodeURIComponent(name)}`,
        ...req,
      });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status.code === 404)) throw err;
    }
    const nowIso = microTime(Date.now());
    if (current === undefined) {
      const sentAt = performance.now();
      const body: LeaseJson = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: nowIso,
          renewTime: nowIso,
          leaseTransitions: 0,
        },
      };
      try {
        const created = await kubeGetJson<LeaseJson>(this.kc, {
          method: 'POST',
          path: this.path,
          body,
          ...req,
        });
        this.observe(created, callbacks);
        return { kind: 'ok', sentAt };
      } catch (err) {
        if (err instanceof KubeApiError && err.status.code === 409) return { kind: 'conflict' };
        throw err;
      }
    }
    this.observe(current, callbacks);
    const spec: NonNullable<LeaseJson['spec']> = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder !== '' && holder !== identity && this.observedAt + durationMs > performance.now()) {
      return { kind: 'held', holder };
    }
    if (renewing && holder !== identity) return { kind: 'held', holder };
    const keep = holder === identity;
    const next: LeaseJson = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...current.metadata, name, namespace },
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: keep && spec.acquireTime !== undefined ? spec.acquireTime : nowIso,
        renewTime: nowIso,
        leaseTransitions: keep ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    const sentAt = performance.now();
    try {
      const updated = await kubeGetJson<LeaseJson>(this.kc, {
        method: 'PUT',
        path: `${this.path}/${encodeURIComponent(name)}`,
        body: next,
        ...req,
      });
      this.observe(updated, callbacks);
      return { kind: 'ok', sentAt };
    } catch (err) {
      if (err instanceof KubeApiError && err.status.code === 409) return { kind: 'conflict' };
      throw err;
    }
  }

  /** Hands the Lease back (empty holder, 1 s duration) if this candidate still holds it. */
  private async release(): Promise<void> {
    const { identity, name } = this.opts;
    const path = `${this.path}/${encodeURIComponent(name)}`;
    try {
      const current = await kubeGetJson<LeaseJson>(this.kc, { path, timeoutMs: this.opts.renewDeadlineMs });
      if (current.spec?.holderIdentity !== identity) return;
      const now = microTime(Date.now());
      const body: LeaseJson = {
        ...current,
        spec: {
          ...current.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
        },
      };
      await kubeRequest(this.kc, { method: 'PUT', path, body, timeoutMs: this.opts.renewDeadlineMs });
    } catch (err) {
      // The Lease then simply expires after leaseDuration; others still take over.
      this.log.warn({ lease: name, err: errorMessage(err) }, 'lease release failed');
    }
  }
}
