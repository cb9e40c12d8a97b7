import { sleep } from '../core/clock.ts';
import { LifelineError } from '../core/errors.ts';
import type { KvPutOptions, Store } from './port.ts';
import type { JsonValue, KvEntry } from './types.ts';

/**
 * Read-modify-write of a key-value document with compare-and-set, retried on conflict:
 * `update` gets the current value (undefined when absent) and returns the new one, or
 * `undefined` to leave it unchanged. Safe across processes and replicas (heal budgets,
 * cooldowns). After a conflict it waits a random 0..min(2^attempt, 100) ms so contenders spread
 * out; gives up after `maxAttempts` attempts (default 30) with `store.conflict`.
 */
export async function kvUpdate(
  store: Store,
  namespace: string,
  key: string,
  update: (current: JsonValue | undefined) => JsonValue | undefined,
  opts: { ttlMs?: number; maxAttempts?: number } = {},
): Promise<KvEntry | undefined> {
  const maxAttempts = opts.maxAttempts ?? 30;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const current = await store.kvGet(namespace, key);
    const next = update(current?.value);
    if (next === undefined) return current;
    const put: KvPutOptions = { expectVersion: current?.version ?? 0 };
    if (opts.ttlMs !== undefined) put.ttlMs = opts.ttlMs;
    const written = await store.kvPut(namespace, key, next, put);
    if (written !== undefined) return written;
    await sleep(Math.random() * Math.min(2 ** attempt, 100));
  }
  throw new LifelineError(
    'store.conflict',
    `gave up updating ${namespace}/${key} after ${maxAttempts} conflicting writes`,
    {
      where: `key-value ${namespace}/${key}`,
      fix: 'the key is updated by many writers at once; retry later or spread the writes over more keys',
    },
  );
}
