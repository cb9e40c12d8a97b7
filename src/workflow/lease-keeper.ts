import type { Clock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Lease, Store } from '../store/index.ts';
import { LeaseLostError } from './errors.ts';

/** Options for {@link LeaseKeeper}. */
export interface LeaseKeeperOptions {
  leaseMs: number;
  renewEveryMs: number;
  clock: Clock;
}

/**
 * Keeps a run's lease alive: renews it every `renewEveryMs`, and aborts `signal` with a
 * {@link LeaseLostError} the moment the ticket is taken (renewal refused) or the lease runs
 * out before a renewal succeeds (store unreachable) — from then on another runner may own it.
 */
export class LeaseKeeper {
  #lease: Lease;
  readonly #store: Store;
  readonly #opts: LeaseKeeperOptions;
  readonly #controller = new AbortController();
  #renewTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(store: Store, lease: Lease, opts: LeaseKeeperOptions) {
    this.#store = store;
    this.#lease = lease;
    this.#opts = opts;
  }

  /** The current lease (its expiry moves with each renewal). */
  get lease(): Lease {
    return this.#lease;
  }

  /** Aborted when the lease is lost. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get lost(): boolean {
    return this.#controller.signal.aborted;
  }

  start(): void {
    this.#armDeadline();
    this.#scheduleRenewal();
  }

  /** Declares the lease lost (a fenced write was refused). */
  markLost(reason: string): void {
    if (this.lost) return;
    this.#controller.abort(new LeaseLostError(`lost the lease on run ${this.#lease.runId}: ${reason}`));
    this.stop();
  }

  /** Stops renewing (the lease then expires unless released). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#deadlineTimer);
  }

  // A method, so checks after an await are not narrowed away by the type checker.
  #isStopped(): boolean {
    return this.#stopped;
  }

  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    const left = Math.max(0, this.#lease.expiresAt - this.#opts.clock.now());
    this.#deadlineTimer = setTimeout(() => {
      this.markLost(`not renewed before it expired (ticket ${this.#lease.ticket})`);
    }, left);
  }

  #scheduleRenewal(): void {
    if (this.#stopped) return;
    this.#renewTimer = setTimeout(() => void this.#renew(), this.#opts.renewEveryMs);
  }

  async #renew(): Promise<void> {
    if (this.#stopped) return;
    let renewed: Lease | undefined;
    try {
      renewed = await this.#store.renewLease(this.#lease, this.#opts.leaseMs);
    } catch (err) {
      // Keep trying until the deadline timer declares the lease lost.
      this.#lastError = errorMessage(err);
      this.#scheduleRenewal();
      return;
    }
    if (this.#isStopped()) return;
    if (renewed === undefined) {
      this.markLost(`ticket ${this.#lease.ticket} was taken by another runner`);
      return;
    }
    this.#lease = renewed;
    this.#lastError = undefined;
    this.#armDeadline();
    this.#scheduleRenewal();
  }

  #lastError: string | undefined;

  /** The last renewal error, if the latest renewal failed. */
  get lastError(): string | undefined {
    return this.#lastError;
  }
}
