import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { sleep } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { statusOf } from './errors.ts';
import { kubeGetJson } from './http.ts';
import { objectKey, resourcePath, type ResourceRef } from './resources.ts';
import type { KubeObjectLike } from './types.ts';

/** What to watch and how hard to try. */
export interface InformerOptions {
  /** The resource type, e.g. `{ group: 'apps', version: 'v1', resource: 'deployments' }`. */
  resource: ResourceRef;
  /** Watch one namespace. Default: all namespaces (or cluster-scoped). */
  namespace?: string;
  /** Label selector for list and watch. Default: none. */
  labelSelector?: string;
  /** Field selector for list and watch. Default: none. */
  fieldSelector?: string;
  /**
   * Relist watchdog: when the watch delivered no event (bookmarks included) for this long, the
   * informer drops it, lists again and diffs the result against the cache. The apiserver sends a
   * bookmark about once a minute on a healthy watch, so the default only fires on a dead watch.
   * Default: 180 000 ms.
   */
  silenceTimeoutMs?: number;
  /** Server-side watch timeout; each watch asks for a random value in [n, 2n). Default: 300 s. */
  watchTimeoutSeconds?: number;
  /** Backoff between failed list/watch attempts. Default: 250 ms doubling to 30 s, up to 20 % shorter at random. */
  backoff?: BackoffOptions;
  /** Page size of a relist (`limit`). Default: 500. */
  pageSize?: number;
  /** Timeout of one list page request. Default: 60 000 ms. */
  listTimeoutMs?: number;
  /** Logger for restarts and handler failures. Default: a `kube.informer` logger on stderr. */
  logger?: Logger;
}

/** Passed to delete handlers. */
export interface DeleteInfo {
  /**
   * True when the deletion was inferred by a relist (the object vanished while the watch was down);
   * the object is then the last state the cache saw, not the final state.
   */
  finalStateUnknown: boolean;
}

/** Why the informer listed again. */
export type RelistReason = 'initial' | 'gone' | 'watchdog' | 'error';

/** Reported after each (re)list. */
export interface RelistInfo {
  reason: RelistReason;
  resourceVersion: string;
  /** Objects in the cache after the relist. */
  count: number;
  added: number;
  updated: number;
  deleted: number;
}

/** A failure the informer recovered from (it always retries until stopped). */
export interface InformerErrorEvent {
  phase: 'list' | 'watch' | 'watch-event';
  error: unknown;
  /** HTTP status when the apiserver answered, e.g. 403 or 503. */
  statusCode: number | undefined;
  /** Delay before the next attempt. */
  retryInMs: number;
}

/** Typed event handlers. Handlers run synchronously on the informer's loop; exceptions are logged. */
export interface InformerHandlers<T> {
  add: (obj: T) => void;
  update: (obj: T, old: T) => void;
  delete: (obj: T, info: DeleteInfo) => void;
  error: (event: InformerErrorEvent) => void;
  relist: (info: RelistInfo) => void;
}

/** Counters and timestamps, for health endpoints and tests. */
export interface InformerStatus {
  running: boolean;
  synced: boolean;
  resourceVersion: string;
  /** Epoch ms of the last watch event (bookmarks included), or undefined. */
  lastEventAt: number | undefined;
  /** Epoch ms of the last completed list. */
  lastListAt: number | undefined;
  relists: Record<RelistReason, number>;
  watchesStarted: number;
  errors: number;
  lastError: string | undefined;
}

type WatchEnd = 'closed' | 'gone' | 'silent' | 'stopped';

interface ObjectList<T> {
  kind?: string;
  apiVersion?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

/**
 * A list-watch cache for one resource that never goes silent.
 *
 * - Restarts the watch after any error or close, with exponential backoff, resuming from the last
 *   resourceVersion; `410 Gone` (as an answer or an ERROR event) triggers a fresh list.
 * - A watchdog lists again when no event arrived for `silenceTimeoutMs` (a watch can hang without
 *   an error: a half-open connection, a stuck aggregated API).
 * - Every relist is diffed against the cache: objects created, changed or deleted while the watch
 *   was down reach the add/update/delete handlers (deletes with `finalStateUnknown`).
 * - `stop()` aborts the watch and any list in flight and clears every timer.
 *
 * Objects are the JSON the apiserver sent, typed as `T`: timestamps are strings, not Dates.
 */
export class Informer<T extends KubeObjectLike = KubeObjectLike> {
  /** Resolves after the first complete list; rejects only if stopped before that. */
  readonly synced: Promise<void>;

  private readonly kc: KubeConfig;
  private readonly opts: InformerOptions;
  private readonly path: string;
  private readonly watcher: Watch;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private readonly handlers: { [E in keyof InformerHandlers<T>]: InformerHandlers<T>[E][] } = {
    add: [],
    update: [],
    delete: [],
    error: [],
    relist: [],
  };
  private cache = new Map<string, T>();
  private resourceVersion = '';
  private needList = true;
  private listReason: RelistReason = 'initial';
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly stopController = new AbortController();
  private endWatch: (() => void) | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private resolveSynced!: () => void;
  private rejectSynced!: (err: Error) => void;
  private readonly stats: InformerStatus = {
    running: false,
    synced: false,
    resourceVersion: '',
    lastEventAt: undefined,
    lastListAt: undefined,
    relists: { initial: 0, gone: 0, watchdog: 0, error: 0 },
    watchesStarted: 0,
    errors: 0,
    lastError: undefined,
  };

  constructor(kc: KubeConfig, opts: InformerOptions) {
    this.kc = kc;
    this.opts = opts;
    this.path = resourcePath(opts.resource, opts.namespace);
    this.watcher = new Watch(kc);
    this.backoff = new Backoff(opts.backoff);
    this.log = opts.logger ?? createLogger({ name: 'kube.informer' });
    this.synced = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve;
      this.rejectSynced = reject;
    });
    // Stopping before the first sync rejects `synced`; that must not crash a caller who never awaited it.
    this.synced.catch(() => undefined);
  }

  /** Registers a handler; returns a function that removes it. */
  on<E extends keyof InformerHandlers<T>>(event: E, handler: InformerHandlers<T>[E]): () => void {
    const list = this.handlers[event];
    list.push(handler);
    return () => {
      const i = list.indexOf(handler);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** Starts listing and watching (idempotent). Await {@link synced} for the first full list. */
  start(): this {
    if (this.loop !== undefined || this.stopped) return this;
    this.stats.running = true;
    this.loop = this.run().finally(() => {
      this.stats.running = false;
    });
    return this;
  }

  /** Stops the watch, aborts requests in flight, clears timers; resolves when the loop has exited. */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.stopController.abort(new Error('informer stopped'));
      this.endWatch?.();
      this.clearWatchdog();
      if (!this.stats.synced)
        this.rejectSynced(new Error(`informer for ${this.path} stopped before it synced`));
    }
    await this.loop;
  }

  /** Cached objects, in one namespace or all. */
  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => (o.metadata?.namespace ?? '') === namespace);
  }

  /** One cached object; `namespace` is `''` or undefined for cluster-scoped objects. */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(namespace === undefined || namespace === '' ? name : `${namespace}/${name}`);
  }

  /** Number of cached objects. */
  get size(): number {
    return this.cache.size;
  }

  /** Counters and timestamps (a copy). */
  status(): InformerStatus {
    return { ...this.stats, relists: { ...this.stats.relists }, resourceVersion: this.resourceVersion };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.needList) await this.relist(this.listReason);
        if (this.isStopped()) break;
        const startedAt = Date.now();
        const eventsBefore = this.stats.lastEventAt;
        const end = await this.watchOnce();
        if (end === 'silent') {
          this.log.warn({ path: this.path, silenceMs: this.silenceMs() }, 'watch silent: relisting');
          this.requestList('watchdog');
        } else if (end === 'gone') {
          this.requestList('gone');
        } else if (
          end === 'closed' &&
          eventsBefore === this.stats.lastEventAt &&
          Date.now() - startedAt < 1000
        ) {
          // A watch that closes at once without events must not spin.
          await this.pause(this.backoff.next());
        }
      } catch (err) {
        if (this.isStopped()) break;
        if (statusOf(err)?.code === 410) {
          this.requestList('gone');
          continue;
        }
        const phase = this.needList ? 'list' : 'watch';
        const retryInMs = this.backoff.next();
        this.report({ phase, error: err, statusCode: statusOf(err)?.code, retryInMs });
        if (phase === 'watch' && this.backoff.attempts > 3) this.requestList('error');
        await this.pause(retryInMs);
      }
    }
  }

  /** A method, not a field read: the flag changes across awaits. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private requestList(reason: RelistReason): void {
    this.needList = true;
    this.listReason = reason;
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, this.stopController.signal).catch(() => undefined);
  }

  private silenceMs(): number {
    return this.opts.silenceTimeoutMs ?? 180_000;
  }

  private async listAll(): Promise<{ items: T[]; resourceVersion: string }> {
    for (let attempt = 0; ; attempt++) {
      const items: T[] = [];
      let cont: string | undefined;
      let rv = '';
      try {
        do {
          const page: ObjectList<T> = await kubeGetJson<ObjectList<T>>(this.kc, {
            path: this.path,
            query: {
              limit: this.opts.pageSize ?? 500,
              continue: cont,
              labelSelector: this.opts.labelSelector,
              fieldSelector: this.opts.fieldSelector,
            },
            signal: this.stopController.signal,
            timeoutMs: this.opts.listTimeoutMs ?? 60_000,
          });
          const kind = page.kind?.replace(/List$/, '');
          for (const item of page.items ?? []) {
            // List items carry no apiVersion/kind; watch events do. Make them alike.
            items.push({ apiVersion: page.apiVersion, kind, ...item });
          }
          rv = page.metadata?.resourceVersion ?? rv;
          cont = page.metadata?.continue === '' ? undefined : page.metadata?.continue;
        } while (cont !== undefined);
        return { items, resourceVersion: rv };
      } catch (err) {
        // An expired continue token (410) means: start the list again from the first page.
        if (cont !== undefined && statusOf(err)?.code === 410 && attempt < 3) continue;
        throw err;
      }
    }
  }

  private async relist(reason: RelistReason): Promise<void> {
    const { items, resourceVersion } = await this.listAll();
    if (this.stopped) return;
    const fresh = new Map<string, T>();
    for (const item of items) fresh.set(objectKey(item), item);
    const old = this.cache;
    this.cache = fresh;
    let added = 0;
    let updated = 0;
    let deleted = 0;
    for (const [key, obj] of fresh) {
      const prev = old.get(key);
      if (prev === undefined) {
        added++;
        this.emit('add', obj);
      } else if (prev.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        updated++;
        this.emit('update', obj, prev);
      }
    }
    for (const [key, prev] of old) {
      if (!fresh.has(key)) {
        deleted++;
        this.emit('delete', prev, { finalStateUnknown: true });
      }
    }
    this.resourceVersion = resourceVersion;
    this.needList = false;
    this.stats.relists[reason]++;
    this.stats.lastListAt = Date.now();
    this.backoff.reset();
    if (!this.stats.synced) {
      this.stats.synced = true;
      this.resolveSynced();
    }
    this.log.debug({ path: this.path, reason, added, updated, deleted }, 'listed');
    this.emit('relist', { reason, resourceVersion, count: fresh.size, added, updated, deleted });
  }

  private clearWatchdog(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private watchOnce(): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve, reject) => {
      let settled = false;
      let controller: AbortController | undefined;
      const finish = (settle: () => void): void => {
        if (settled) return;
        settled = true;
        this.clearWatchdog();
        this.endWatch = undefined;
        controller?.abort();
        settle();
      };
      const arm = (): void => {
        this.clearWatchdog();
        this.watchdog = setTimeout(() => {
          finish(() => {
            resolve('silent');
          });
        }, this.silenceMs());
      };
      this.endWatch = () => {
        finish(() => {
          resolve('stopped');
        });
      };
      arm();
      this.stats.watchesStarted++;
      const base = this.opts.watchTimeoutSeconds ?? 300;
      const query = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: base + Math.floor(Math.random() * base),
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
      };
      const onEvent = (type: string, obj: unknown): void => {
        if (settled) return;
        arm();
        this.stats.lastEventAt = Date.now();
        if (this.handleEvent(type, obj) === 'gone') {
          // Do not wait for the server to close the stream: the resourceVersion is unusable.
          finish(() => {
            resolve('gone');
          });
        }
      };
      const onDone = (err: unknown): void => {
        if (err === null || err === undefined) {
          finish(() => {
            resolve('closed');
          });
        } else {
          finish(() => {
            reject(err instanceof Error ? err : new Error(errorMessage(err)));
          });
        }
      };
      this.watcher.watch(this.path, query, onEvent, onDone).then(
        (c) => {
          controller = c;
          // The watch may have ended (stop, watchdog) while the request was still connecting.
          if (settled) c.abort();
        },
        (err: unknown) => {
          onDone(err ?? new Error('watch failed'));
        },
      );
    });
  }

  private handleEvent(type: string, raw: unknown): 'gone' | undefined {
    const obj = raw as T;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED': {
        const key = objectKey(obj);
        const prev = this.cache.get(key);
        this.cache.set(key, obj);
        if (prev === undefined) this.emit('add', obj);
        else if (prev.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
          this.emit('update', obj, prev);
        break;
      }
      case 'DELETED': {
        const key = objectKey(obj);
        if (this.cache.delete(key)) this.emit('delete', obj, { finalStateUnknown: false });
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const code = (raw as { code?: unknown }).code;
        if (code === 410) return 'gone';
        this.report({
          phase: 'watch-event',
          error: new Error(
            `watch ERROR event: ${(raw as { message?: string }).message ?? JSON.stringify(raw)}`,
          ),
          statusCode: typeof code === 'number' ? code : undefined,
          retryInMs: 0,
        });
        return undefined;
      }
      default:
        return undefined;
    }
    const rv = obj.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '') this.resourceVersion = rv;
    this.backoff.reset();
    return undefined;
  }

  private report(event: InformerErrorEvent): void {
    this.stats.errors++;
    this.stats.lastError = errorMessage(event.error);
    this.log.warn(
      {
        path: this.path,
        phase: event.phase,
        status: event.statusCode,
        retryInMs: event.retryInMs,
        err: this.stats.lastError,
      },
      'informer error; retrying',
    );
    for (const h of [...this.handlers.error]) {
      try {
        h(event);
      } catch (err) {
        this.log.error({ path: this.path, err: errorMessage(err) }, 'informer error handler threw');
      }
    }
  }

  private emit(event: 'add', obj: T): void;
  private emit(event: 'update', obj: T, old: T): void;
  private emit(event: 'delete', obj: T, info: DeleteInfo): void;
  private emit(event: 'relist', info: RelistInfo): void;
  private emit(event: 'add' | 'update' | 'delete' | 'relist', a: unknown, b?: unknown): void {
    const list = this.handlers[event] as ((x: unknown, y: unknown) => void)[];
    for (const h of [...list]) {
      try {
        h(a, b);
      } catch (err) {
        this.log.error({ path: this.path, event, err: errorMessage(err) }, 'informer handler threw');
      }
    }
  }
}

/** Creates and starts an {@link Informer}. */
export function startInformer<T extends KubeObjectLike = KubeObjectLike>(
  kc: KubeConfig,
  opts: InformerOptions,
): Informer<T> {
  return new Informer<T>(kc, opts).start();
}
