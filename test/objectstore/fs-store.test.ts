// Behaviour specific to the filesystem store: atomic replacement, cross-process put-if-absent,
// safe key-to-path mapping, metadata sidecars, cleanup.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FsObjectStore, KeyConflictError } from '../../src/objectstore/index.ts';
import { generatedStream, hashStream, MIB, readAll, sha256 } from './streams.ts';

const run = promisify(execFile);
const base = await mkdtemp(join(tmpdir(), 'lifeline-fs-store-'));
after(() => rm(base, { recursive: true, force: true }));
let n = 0;

async function newStore(): Promise<{ store: FsObjectStore; root: string }> {
  const root = join(base, `s${++n}`);
  const store = new FsObjectStore({ root });
  await store.init();
  return { store, root };
}

/** Every file under `dir`, relative, including dot-names. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('FsObjectStore', () => {
  it('stores each key as a plain file (mode 0600) with its metadata under .meta/', async () => {
    const { store, root } = await newStore();
    await store.put('backups/b1/manifest.json', Buffer.from('{"ok":true}'), {
      contentType: 'application/json',
    });
    assert.deepEqual(await tree(root), ['.meta/backups/b1/manifest.json', 'backups/b1/manifest.json']);
    assert.equal(await readFile(join(root, 'backups/b1/manifest.json'), 'utf8'), '{"ok":true}');
    assert.equal((await stat(join(root, 'backups/b1/manifest.json'))).mode & 0o777, 0o600);
    const meta = await store.head('backups/b1/manifest.json');
    assert.equal(meta.sha256, sha256('{"ok":true}'));
    assert.equal(meta.contentType, 'application/json');
  });

  it('never shows a partial object: the old content stays readable until the new one is complete', async () => {
    const { store, root } = await newStore();
    await store.put('k', Buffer.from('old'));
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gen = generatedStream(8 * MIB, { holdEndUntil: gate });
    const writing = store.put('k', gen.stream);
    while (gen.produced() < 8 * MIB) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await readAll((await store.get('k')).body)).toString(), 'old', 'old object while writing');
    assert.equal((await store.head('k')).size, 3);
    assert.ok(
      (await readdir(root)).some((f) => f.startsWith('.tmp-k-')),
      'the new data is in a temp file',
    );
    const listed: string[] = [];
    for await (const o of store.list('')) listed.push(o.key);
    assert.deepEqual(listed, ['k'], 'temp files are not listed');
    release();
    await writing;
    assert.deepEqual(await hashStream((await store.get('k')).body), { sha256: gen.digest(), size: 8 * MIB });
    assert.deepEqual(await tree(root), ['.meta/k', 'k'], 'no temp file left');
  });

  it(
    'putIfAbsent is atomic across processes: one of 6 racing processes wins',
    { timeout: 120_000 },
    async () => {
      const { store, root } = await newStore();
      const child = new URL('./fixtures/put-if-absent-child.ts', import.meta.url).pathname;
      for (let round = 0; round < 3; round++) {
        const key = `claims/cross-${round}`;
        const startAt = Date.now() + 6000;
        const outs = await Promise.all(
          ['a', 'b', 'c', 'd', 'e', 'f'].map((w) =>
            run(process.execPath, ['--import', 'tsx', child, root, key, w, String(startAt)], {
              timeout: 60_000,
            }),
          ),
        );
        const results = outs.map(
          (o) => JSON.parse(o.stdout.trim()) as { writer: string; created: boolean; late: boolean },
        );
        assert.deepEqual(
          results.filter((r) => r.late),
          [],
          'every process was ready before the start signal',
        );
        const winners = results.filter((r) => r.created);
        assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(results)}`);
        const data = await readAll((await store.get(key)).body);
        assert.equal(data.length, 256 * 1024);
        assert.ok(
          data.every((b) => b === data[0]),
          'one writer’s bytes, not a mix',
        );
        assert.equal(String.fromCharCode(data[0] ?? 0), winners[0]?.writer);
      }
      assert.deepEqual(
        (await readdir(join(root, 'claims'))).filter((f) => f.startsWith('.')),
        [],
        'losers removed their temp files',
      );
    },
  );

  it('refuses a key that would make an object also a folder', async () => {
    const { store } = await newStore();
    await store.put('a/b', Buffer.from('x'));
    await assert.rejects(store.put('a', Buffer.from('y')), KeyConflictError);
    await assert.rejects(store.putIfAbsent('a', Buffer.from('y')), KeyConflictError);
    await assert.rejects(store.put('a/b/c', Buffer.from('z')), KeyConflictError);
    assert.equal((await readAll((await store.get('a/b')).body)).toString(), 'x');
  });

  it('ignores a metadata file that does not describe the current object file', async () => {
    const { store, root } = await newStore();
    await store.put('k', Buffer.from('one'));
    assert.equal((await store.head('k')).sha256, sha256('one'));
    // Replace the object behind the store's back (same size): the sidecar no longer matches.
    await writeFile(join(root, 'k'), 'two');
    await utimes(join(root, 'k'), new Date(), new Date(Date.now() + 5000));
    const meta = await store.head('k');
    assert.equal(meta.sha256, undefined, 'a stale sha256 is never reported');
    assert.equal(meta.size, 3);
  });

  it('removes emptied folders on delete, so listFolders matches S3 semantics', async () => {
    const { store, root } = await newStore();
    await store.put('x/y/z/obj', Buffer.from('1'));
    await store.put('x/keep', Buffer.from('2'));
    await store.delete('x/y/z/obj');
    assert.deepEqual(await readdir(join(root, 'x')), ['keep']);
    assert.deepEqual(await readdir(join(root, '.meta', 'x')), ['keep']);
    await store.delete('x/keep');
    assert.deepEqual(
      (await readdir(root)).filter((f) => f !== '.meta'),
      [],
    );
  });
});
