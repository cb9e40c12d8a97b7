// One conformance suite for every ObjectStore implementation (the pattern of hono's
// common.case.test.ts): each backend's test file calls objectStoreConformance() with a factory.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import {
  compareKeys,
  InvalidKeyError,
  ObjectChecksumMismatchError,
  ObjectNotFoundError,
  type ObjectStore,
} from '../../src/objectstore/index.ts';
import { generatedStream, hashStream, MemorySampler, MIB, readAll, sha256 } from './streams.ts';

/** How the suite gets stores for one backend. */
export interface ConformanceTarget {
  /** Backend name in test titles. */
  name: string;
  /** A fresh, empty store; the suite closes it when the test ends. */
  open(): Promise<ObjectStore>;
  /** Run the 1 GiB streamed case (not for the memory store, which holds objects in memory). */
  large: boolean;
  /** Run the >1000-key listing (default page size) case. */
  manyKeys: boolean;
}

/** Size of the large streamed object. Default 1 GiB; LIFELINE_OBJECTSTORE_LARGE_MIB overrides. */
export const LARGE_BYTES = Number(process.env['LIFELINE_OBJECTSTORE_LARGE_MIB'] ?? '1024') * MIB;
/** The bound on peak RSS growth while streaming the large object. */
export const LARGE_MEMORY_BOUND = 200 * MIB;

async function fresh(t: TestContext, target: ConformanceTarget): Promise<ObjectStore> {
  const store = await target.open();
  t.after(() => store.close());
  return store;
}

async function keysOf(iter: AsyncIterable<{ key: string }>): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of iter) keys.push(o.key);
  return keys;
}

async function collect<T>(iter: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iter) out.push(x);
  return out;
}

async function text(store: ObjectStore, key: string): Promise<string> {
  const { body } = await store.get(key);
  return (await readAll(body)).toString('utf8');
}

/** Registers the conformance tests for one backend. */
export function objectStoreConformance(target: ConformanceTarget): void {
  describe(`ObjectStore conformance: ${target.name}`, () => {
    it('round-trips bytes with size, sha256 and content type', async (t) => {
      const store = await fresh(t, target);
      const data = Buffer.from('hello, lifeline\n');
      const put = await store.put('a/b/hello.txt', data, { contentType: 'text/plain' });
      assert.equal(put.key, 'a/b/hello.txt');
      assert.equal(put.size, data.length);
      assert.equal(put.sha256, sha256(data));
      const { body, meta } = await store.get('a/b/hello.txt');
      assert.deepEqual(await readAll(body), data);
      assert.equal(meta.size, data.length);
      assert.equal(meta.contentType, 'text/plain');
      const head = await store.head('a/b/hello.txt');
      assert.equal(head.key, 'a/b/hello.txt');
      assert.equal(head.size, data.length);
      assert.ok(head.lastModified.getTime() > Date.now() - 60_000, 'lastModified is recent');
      assert.equal(await store.exists('a/b/hello.txt'), true);
    });

    it('round-trips a multi-chunk stream and an empty object', async (t) => {
      const store = await fresh(t, target);
      const gen = generatedStream(3 * MIB + 17, { chunkSize: 64 * 1024 });
      const put = await store.put('streams/three-mib', gen.stream);
      assert.equal(put.size, 3 * MIB + 17);
      assert.equal(put.sha256, gen.digest());
      const back = await hashStream((await store.get('streams/three-mib')).body);
      assert.deepEqual(back, { sha256: gen.digest(), size: 3 * MIB + 17 });

      const empty = await store.put('streams/empty', new Uint8Array(0));
      assert.equal(empty.size, 0);
      assert.equal(empty.sha256, sha256(''));
      assert.equal((await readAll((await store.get('streams/empty')).body)).length, 0);
      assert.equal((await store.head('streams/empty')).size, 0);
    });

    it('replaces an object on put', async (t) => {
      const store = await fresh(t, target);
      await store.put('k', Buffer.from('first'));
      await store.put('k', Readable.from([Buffer.from('sec'), Buffer.from('ond!')]));
      assert.equal(await text(store, 'k'), 'second!');
      assert.equal((await store.head('k')).size, 7);
    });

    it('stores an expected sha256 and refuses a body that does not match it', async (t) => {
      const store = await fresh(t, target);
      const data = Buffer.from('verified content');
      await store.put('v/ok', data, { sha256: sha256(data), size: data.length });
      assert.equal((await store.head('v/ok')).sha256, sha256(data));
      const opened = await store.get('v/ok');
      opened.body.destroy();
      assert.equal(opened.meta.sha256, sha256(data));

      await assert.rejects(
        store.put('v/bad', data, { sha256: sha256('other') }),
        ObjectChecksumMismatchError,
      );
      assert.equal(await store.exists('v/bad'), false, 'nothing written on a digest mismatch');
      await assert.rejects(
        store.put('v/ok', Buffer.from('tampered'), { size: 3 }),
        ObjectChecksumMismatchError,
      );
      assert.equal(await text(store, 'v/ok'), 'verified content', 'previous object kept on a size mismatch');
      const big = generatedStream(17 * MIB + 1);
      await assert.rejects(
        store.put('v/big', big.stream, { sha256: sha256('not it') }),
        ObjectChecksumMismatchError,
        'multi-part sized bodies are checked before commit too',
      );
      assert.equal(await store.exists('v/big'), false);
    });

    it('leaves nothing behind when the source stream fails', async (t) => {
      const store = await fresh(t, target);
      await store.put('broken/k', Buffer.from('old'));
      const gen = generatedStream(20 * MIB, { failAfter: 17 * MIB });
      await assert.rejects(store.put('broken/k', gen.stream), /generated source failed/);
      assert.equal(await text(store, 'broken/k'), 'old');
      const gen2 = generatedStream(20 * MIB, { failAfter: MIB });
      await assert.rejects(store.put('broken/new', gen2.stream), /generated source failed/);
      assert.equal(await store.exists('broken/new'), false);
      assert.deepEqual(await keysOf(store.list('broken/')), ['broken/k']);
    });

    it('reports missing objects with ObjectNotFoundError; delete is idempotent', async (t) => {
      const store = await fresh(t, target);
      await assert.rejects(store.get('missing/x'), (err: unknown) => {
        assert.ok(err instanceof ObjectNotFoundError);
        assert.equal(err.code, 'objectstore.not_found');
        assert.equal(err.key, 'missing/x');
        assert.match(err.render(), /where: .*missing\/x/);
        return true;
      });
      await assert.rejects(store.head('missing/x'), ObjectNotFoundError);
      assert.equal(await store.exists('missing/x'), false);
      await store.delete('missing/x');

      await store.put('d/one', Buffer.from('1'));
      await store.put('d/two', Buffer.from('2'));
      await store.delete('d/one');
      await assert.rejects(store.head('d/one'), ObjectNotFoundError);
      await assert.rejects(store.get('d/one'), ObjectNotFoundError);
      assert.deepEqual(await keysOf(store.list('d/')), ['d/two']);
      await store.delete('d/one');
      // A "folder" is not an object.
      await assert.rejects(store.head('d'), ObjectNotFoundError);
    });

    it('rejects invalid keys before touching the backend, destroying a stream body', async (t) => {
      const store = await fresh(t, target);
      const bad = [
        '',
        '/a',
        'a/',
        'a//b',
        '../x',
        'a/../b',
        'a/./b',
        '.hidden',
        'a/.tmp',
        'a\\b',
        'a\u0000b',
        'x'.repeat(1025),
      ];
      for (const key of bad) {
        const body = Readable.from([Buffer.from('x')]);
        await assert.rejects(store.put(key, body), InvalidKeyError, `put ${JSON.stringify(key)}`);
        assert.equal(body.destroyed, true, `body destroyed for ${JSON.stringify(key)}`);
        await assert.rejects(store.get(key), InvalidKeyError);
        await assert.rejects(store.head(key), InvalidKeyError);
        await assert.rejects(store.delete(key), InvalidKeyError);
        await assert.rejects(store.putIfAbsent(key, Buffer.from('x')), InvalidKeyError);
      }
      await assert.rejects(collect(store.list('../')), InvalidKeyError);
      await assert.rejects(collect(store.listFolders('a')), InvalidKeyError);
      assert.deepEqual(await keysOf(store.list('')), []);
    });

    it('lists by string prefix in byte order, lazily across pages', async (t) => {
      const store = await fresh(t, target);
      const keys = [
        'a-c',
        'a/b',
        'a/c/d',
        'a/c/e',
        'ab',
        'b/x',
        'backups/one/m.json',
        'backups/two/m.json',
        'z',
        'é/x',
        'Z',
      ];
      await Promise.all(keys.map((k) => store.put(k, Buffer.from(k))));
      const sorted = [...keys].sort(compareKeys);
      assert.deepEqual(await keysOf(store.list('')), sorted);
      assert.deepEqual(await keysOf(store.list('', { pageSize: 2 })), sorted);
      assert.deepEqual(await keysOf(store.list('a')), ['a-c', 'a/b', 'a/c/d', 'a/c/e', 'ab']);
      assert.deepEqual(await keysOf(store.list('a/')), ['a/b', 'a/c/d', 'a/c/e']);
      assert.deepEqual(await keysOf(store.list('a/c/', { pageSize: 1 })), ['a/c/d', 'a/c/e']);
      assert.deepEqual(await keysOf(store.list('backups/t')), ['backups/two/m.json']);
      assert.deepEqual(await keysOf(store.list('nothing/')), []);
      const summaries = await collect(store.list('b/'));
      assert.equal(summaries.length, 1);
      assert.equal(summaries[0]?.size, 3);

      assert.deepEqual(await collect(store.listFolders('')), ['a/', 'b/', 'backups/', 'é/']);
      assert.deepEqual(await collect(store.listFolders('backups/')), ['backups/one/', 'backups/two/']);
      assert.deepEqual(await collect(store.listFolders('a/')), ['a/c/']);
      await store.delete('a/c/d');
      await store.delete('a/c/e');
      assert.deepEqual(
        await collect(store.listFolders('a/')),
        [],
        'a folder whose objects are gone is not listed',
      );
    });

    it('paginates a listing of many keys with a small page size', async (t) => {
      const store = await fresh(t, target);
      const n = 250;
      const keys = Array.from({ length: n }, (_, i) => `many/${String(i).padStart(4, '0')}`);
      for (let i = 0; i < n; i += 25) {
        await Promise.all(keys.slice(i, i + 25).map((k) => store.put(k, Buffer.from(k))));
      }
      assert.deepEqual(await keysOf(store.list('many/', { pageSize: 7 })), keys);
    });

    if (target.manyKeys) {
      it('lists more than 1000 keys with the default page size', { timeout: 180_000 }, async (t) => {
        const store = await fresh(t, target);
        const n = 1203;
        const keys = Array.from({ length: n }, (_, i) => `big-listing/${String(i).padStart(5, '0')}`);
        for (let i = 0; i < n; i += 50) {
          await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, new Uint8Array(1))));
        }
        assert.deepEqual(await keysOf(store.list('big-listing/')), keys);
      });
    }

    it('putIfAbsent: exactly one of N concurrent writers wins', async (t) => {
      const store = await fresh(t, target);
      const writers = 12;
      for (let round = 0; round < 5; round++) {
        const key = `claims/round-${round}`;
        const results = await Promise.all(
          Array.from({ length: writers }, (_, i) =>
            store.putIfAbsent(key, Readable.from([Buffer.from(`writer-${i}`)]), {
              contentType: 'text/plain',
            }),
          ),
        );
        const winners = results.flatMap((r, i) => (r.created ? [i] : []));
        assert.equal(winners.length, 1, `round ${round}: winners ${JSON.stringify(winners)}`);
        for (const r of results) assert.equal(r.key, key);
        assert.equal(await text(store, key), `writer-${winners[0]}`, 'the stored body is the winner’s');
      }
    });

    it('putIfAbsent: an existing key is kept and the body destroyed', async (t) => {
      const store = await fresh(t, target);
      const first = await store.putIfAbsent('once', Buffer.from('first'), { sha256: sha256('first') });
      assert.ok(first.created, 'the first putIfAbsent creates the key');
      assert.equal(first.sha256, sha256('first'));
      assert.equal(first.size, 5);
      assert.equal((await store.head('once')).sha256, sha256('first'));
      const body = Readable.from([Buffer.from('second')]);
      const second = await store.putIfAbsent('once', body);
      assert.deepEqual(second, { created: false, key: 'once' });
      assert.equal(body.destroyed, true);
      assert.equal(await text(store, 'once'), 'first');
      await store.delete('once');
      assert.equal(
        (await store.putIfAbsent('once', Buffer.from('third'))).created,
        true,
        'free again after delete',
      );
      assert.equal(await text(store, 'once'), 'third');
    });

    if (target.large) {
      it(`streams a ${LARGE_BYTES / MIB} MiB object with bounded memory`, { timeout: 900_000 }, async (t) => {
        const store = await fresh(t, target);
        const gen = generatedStream(LARGE_BYTES);
        const sampler = new MemorySampler();
        const t0 = performance.now();
        const put = await store.put('large/object.bin', gen.stream);
        const t1 = performance.now();
        const back = await hashStream((await store.get('large/object.bin')).body);
        const t2 = performance.now();
        const mem = sampler.stop();
        assert.equal(put.size, LARGE_BYTES);
        assert.equal(put.sha256, gen.digest());
        assert.deepEqual(back, { sha256: gen.digest(), size: LARGE_BYTES });
        assert.equal((await store.head('large/object.bin')).size, LARGE_BYTES);
        const mibs = (ms: number): string => (LARGE_BYTES / MIB / (ms / 1000)).toFixed(1);
        const figures = {
          backend: target.name,
          mib: LARGE_BYTES / MIB,
          writeSeconds: +((t1 - t0) / 1000).toFixed(1),
          writeMiBps: +mibs(t1 - t0),
          readSeconds: +((t2 - t1) / 1000).toFixed(1),
          readMiBps: +mibs(t2 - t1),
          peakRssGrowthMiB: +(mem.rssGrowth / MIB).toFixed(1),
          peakHeapGrowthMiB: +(mem.heapGrowth / MIB).toFixed(1),
          peakRssMiB: +(mem.peakRss / MIB).toFixed(1),
        };
        t.diagnostic(`large-object ${JSON.stringify(figures)}`);
        assert.ok(
          mem.rssGrowth < LARGE_MEMORY_BOUND,
          `peak RSS grew by ${figures.peakRssGrowthMiB} MiB (bound ${LARGE_MEMORY_BOUND / MIB} MiB)`,
        );
        await store.delete('large/object.bin');
      });
    }
  });
}
