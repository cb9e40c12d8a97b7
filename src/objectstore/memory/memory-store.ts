import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import { discardBody, DigestStream, toReadable, validatePutOptions } from '../digest.ts';
import { ObjectNotFoundError } from '../errors.ts';
import { assertValidFolder, assertValidKey, assertValidPrefix, compareKeys } from '../keys.ts';
import type {
  GetResult,
  ObjectBody,
  ObjectMeta,
  ObjectStore,
  ObjectSummary,
  PutIfAbsentResult,
  PutOptions,
  PutResult,
} from '../objectstore.ts';

/** Runs `fn` now; its result or throw becomes a settled promise. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise<T>((resolve) => {
    resolve(fn());
  });
}

interface StoredObject {
  data: Buffer;
  meta: ObjectMeta;
}

/** Options for {@link MemoryObjectStore}. */
export interface MemoryObjectStoreOptions {
  /** Time source for `lastModified`. Default: the system clock. */
  clock?: Clock;
}

/**
 * An ObjectStore held in this process's memory, for tests. Objects are buffered whole (a 1 GiB
 * object costs 1 GiB of heap), so it is not for large data. `putIfAbsent` is atomic within the
 * process: the key is reserved before the body is read.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly description = 'memory';
  private readonly objects = new Map<string, StoredObject>();
  /** Keys with a `putIfAbsent` in flight, so concurrent callers lose at once. */
  private readonly reserved = new Set<string>();
  private readonly clock: Clock;
  private version = 0;

  constructor(opts: MemoryObjectStoreOptions = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  private async read(key: string, body: ObjectBody, opts: PutOptions): Promise<StoredObject> {
    const digest = new DigestStream(this.description, key, opts);
    const chunks: Buffer[] = [];
    await pipeline(toReadable(body), digest, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) chunks.push(chunk);
    });
    const data = Buffer.concat(chunks);
    this.version += 1;
    const meta: ObjectMeta = {
      key,
      size: data.length,
      lastModified: new Date(this.clock.now()),
      sha256: digest.sha256,
      etag: `"m${this.version}"`,
      ...(opts.contentType === undefined ? {} : { contentType: opts.contentType }),
    };
    return { data, meta };
  }

  private result(obj: StoredObject): PutResult {
    const { key, size, sha256, etag } = obj.meta;
    return { key, size, sha256: sha256 ?? '', ...(etag === undefined ? {} : { etag }) };
  }

  async put(key: string, body: ObjectBody, opts: PutOptions = {}): Promise<PutResult> {
    try {
      assertValidKey(key);
      validatePutOptions(opts);
    } catch (err) {
      discardBody(body);
      throw err;
    }
    const obj = await this.read(key, body, opts);
    this.objects.set(key, obj);
    return this.result(obj);
  }

  async putIfAbsent(key: string, body: ObjectBody, opts: PutOptions = {}): Promise<PutIfAbsentResult> {
    try {
      assertValidKey(key);
      validatePutOptions(opts);
    } catch (err) {
      discardBody(body);
      throw err;
    }
    if (this.objects.has(key) || this.reserved.has(key)) {
      discardBody(body);
      return { created: false, key };
    }
    this.reserved.add(key);
    try {
      const obj = await this.read(key, body, opts);
      if (this.objects.has(key)) return { created: false, key };
      this.objects.set(key, obj);
      return { created: true, ...this.result(obj) };
    } finally {
      this.reserved.delete(key);
    }
  }

  private lookup(key: string): StoredObject {
    assertValidKey(key);
    const obj = this.objects.get(key);
    if (obj === undefined) throw new ObjectNotFoundError(this.description, key);
    return obj;
  }

  get(key: string): Promise<GetResult> {
    return settle(() => {
      const obj = this.lookup(key);
      return { body: Readable.from([obj.data], { objectMode: false }), meta: { ...obj.meta } };
    });
  }

  head(key: string): Promise<ObjectMeta> {
    return settle(() => ({ ...this.lookup(key).meta }));
  }

  exists(key: string): Promise<boolean> {
    return settle(() => {
      assertValidKey(key);
      return this.objects.has(key);
    });
  }

  async *list(prefix: string): AsyncIterable<ObjectSummary> {
    assertValidPrefix(prefix);
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
    for (const key of keys) {
      const obj = this.objects.get(key);
      if (obj === undefined) continue; // deleted while iterating
      yield { key, size: obj.meta.size, lastModified: obj.meta.lastModified };
    }
    await Promise.resolve();
  }

  async *listFolders(prefix: string): AsyncIterable<string> {
    assertValidFolder(prefix);
    const folders = new Set<string>();
    for (const key of this.objects.keys()) {
      if (!key.startsWith(prefix)) continue;
      const slash = key.indexOf('/', prefix.length);
      if (slash !== -1) folders.add(key.slice(0, slash + 1));
    }
    yield* [...folders].sort(compareKeys);
    await Promise.resolve();
  }

  delete(key: string): Promise<void> {
    return settle(() => {
      assertValidKey(key);
      this.objects.delete(key);
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
