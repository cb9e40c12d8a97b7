import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  FileModelStateStore,
  ObjectStoreModelStateStore,
  type ModelStateStore,
} from '../../src/detect/anomaly/state-store.ts';
import { MemoryObjectStore, MAX_KEY_BYTES, assertValidKey, layout } from '../../src/objectstore/index.ts';

const dir = await mkdtemp(join(tmpdir(), 'lifeline-model-store-'));
after(() => rm(dir, { recursive: true, force: true }));

function conformance(name: string, make: () => ModelStateStore): void {
  describe(`ModelStateStore: ${name}`, () => {
    it('returns undefined for a missing key, then what was put, replaced on a second put', async () => {
      const store = make();
      const key = 'series/latency/{job="x",path="/a b"}';
      assert.equal(await store.get(key), undefined);
      await store.put(key, { n: 1, list: [1, 2] });
      assert.deepEqual(await store.get(key), { n: 1, list: [1, 2] });
      await store.put(key, { n: 2 });
      assert.deepEqual(await store.get(key), { n: 2 });
      assert.equal(await store.get(`${key}x`), undefined);
    });
  });
}

conformance('file', () => new FileModelStateStore(join(dir, `f${Math.random()}`)));
conformance('object store (memory)', () => new ObjectStoreModelStateStore(new MemoryObjectStore()));

describe('FileModelStateStore', () => {
  it('leaves no temp files and reports a corrupt file with the path and the fix', async () => {
    const folder = join(dir, 'corrupt');
    const store = new FileModelStateStore(folder);
    await store.put('k', { a: 1 });
    const files = await readdir(folder);
    assert.equal(files.length, 1);
    assert.ok(files[0]?.endsWith('.json'));
    await writeFile(join(folder, files[0] ?? ''), '{not json');
    await assert.rejects(store.get('k'), (err: Error & { where?: string; fix?: string }) => {
      assert.match(err.message, /not valid JSON/);
      assert.ok(err.where?.startsWith(folder));
      assert.match(err.fix ?? '', /delete the file/);
      return true;
    });
  });
});

describe('ObjectStoreModelStateStore', () => {
  it("keeps states at the layout's models/<detector>/<hash>.json, fixed-length for any key", async () => {
    const objects = new MemoryObjectStore();
    const store = new ObjectStoreModelStateStore(objects, 'ewma');
    const long = `series/q/{${'label="value",'.repeat(200)}}`;
    assert.ok(
      Buffer.byteLength(encodeURIComponent(long)) > MAX_KEY_BYTES,
      'the escaped key would be too long',
    );
    await store.put(long, { a: 1 });
    await store.put('cursor/q', { end: 5 });
    const keys: string[] = [];
    for await (const o of objects.list('models/')) keys.push(o.key);
    assert.deepEqual(
      keys.sort(),
      [layout.anomalyModelHashed('ewma', 'cursor/q'), layout.anomalyModelHashed('ewma', long)].sort(),
    );
    for (const k of keys) {
      assertValidKey(k);
      assert.match(k, /^models\/ewma\/[0-9a-f]{32}\.json$/);
    }
    assert.deepEqual(await store.get(long), { a: 1 });
    assert.notEqual(layout.anomalyModelHashed('ewma', 'a'), layout.anomalyModelHashed('ewma', 'b'));
    assert.equal(layout.anomalyModelHashed('ewma', 'a'), layout.anomalyModelHashed('ewma', 'a'));
    assert.equal(
      new ObjectStoreModelStateStore(objects).objectKey('a'),
      layout.anomalyModelHashed('lifeline', 'a'),
    );
  });
});
