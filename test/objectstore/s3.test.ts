import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { waitFor } from '../../src/core/clock.ts';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
} from '@aws-sdk/client-s3';
import { openObjectStore, S3ObjectStore } from '../../src/objectstore/index.ts';
import { motoClientConfig } from '../../src/sandbox/moto.ts';
import { startTestMoto } from '../support/moto.ts';
import { objectStoreConformance } from './conformance.ts';
import { generatedStream, MIB, readAll, sha256 } from './streams.ts';

const moto = await startTestMoto();
const bucket = await moto.createBucket('lifeline-conformance');
let n = 0;

// Each test gets its own key prefix in one bucket, through the same factory the server uses.
objectStoreConformance({
  name: 's3 (moto)',
  open: () =>
    openObjectStore(
      {
        driver: 's3',
        bucket,
        prefix: `conformance-${++n}`,
        endpoint: moto.server.endpoint,
        region: moto.config.region,
        forcePathStyle: true,
      },
      { credentials: moto.config.credentials, partSize: 8 * MIB },
    ),
  large: true,
  manyKeys: true,
});

describe('S3ObjectStore on moto', () => {
  // The conditional write itself decides, not the HEAD pre-check: the second writer starts while
  // the key is free, the first writer then creates it, and the second's commit must get a 412.
  for (const [label, bytes] of [
    ['single PutObject', 3 * MIB],
    ['multipart CompleteMultipartUpload', 11 * MIB],
  ] as const) {
    it(`putIfAbsent: If-None-Match on the ${label} refuses a key created meanwhile`, async () => {
      const store = new S3ObjectStore({
        bucket,
        prefix: 'late-claims',
        client: moto.client,
        partSize: 5 * MIB,
      });
      const key = `late-${bytes}`;
      let release = (): void => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const late = generatedStream(bytes, { holdEndUntil: gate });
      const pending = store.putIfAbsent(key, late.stream);
      await waitFor('the late writer to pass its pre-check and start streaming', () =>
        late.produced() > 0 ? true : undefined,
      );
      await store.put(key, Buffer.from('first writer'));
      release();
      assert.deepEqual(await pending, { created: false, key });
      assert.equal((await readAll((await store.get(key)).body)).toString(), 'first writer');
      const uploads = await moto.client.send(
        new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'late-claims/' }),
      );
      assert.deepEqual(uploads.Uploads ?? [], [], 'the refused multipart upload was aborted');
    });
  }

  // moto 5.2.1 checks If-None-Match on CompleteMultipartUpload before assembling the parts, with
  // no lock, so simultaneous completes all succeed (3 of 3 in 10 of 10 rounds here). Real S3
  // makes the check and the write atomic. Set LIFELINE_S3_ATOMIC_CONDITIONAL=1 to run this
  // against a store that does (docs/adr/0301-objectstore-put-if-absent.md).
  it(
    'putIfAbsent: simultaneous multipart writers, exactly one wins',
    {
      skip:
        process.env['LIFELINE_S3_ATOMIC_CONDITIONAL'] === '1'
          ? false
          : 'moto: concurrent CompleteMultipartUpload with If-None-Match is not atomic (ADR 0301)',
    },
    async () => {
      const store = new S3ObjectStore({
        bucket,
        prefix: 'multipart-claims',
        client: moto.client,
        partSize: 5 * MIB,
      });
      for (let round = 0; round < 3; round++) {
        const key = `round-${round}`;
        const bodies = [generatedStream(11 * MIB), generatedStream(11 * MIB), generatedStream(11 * MIB)];
        const results = await Promise.all(bodies.map((b) => store.putIfAbsent(key, b.stream)));
        const winners = results.flatMap((r, i) => (r.created ? [i] : []));
        assert.equal(winners.length, 1, `round ${round}: winners ${JSON.stringify(winners)}`);
        const winner = bodies[winners[0] ?? -1];
        assert.ok(winner);
        assert.equal(sha256(await readAll((await store.get(key)).body)), winner.digest());
      }
    },
  );

  it('aborts the multipart upload when the source fails or the digest does not match', async () => {
    const store = new S3ObjectStore({ bucket, prefix: 'aborted', client: moto.client, partSize: 5 * MIB });
    const failing = generatedStream(30 * MIB, { failAfter: 16 * MIB });
    await assert.rejects(store.put('src-fails', failing.stream), /generated source failed/);
    const wrong = generatedStream(12 * MIB);
    await assert.rejects(store.put('bad-digest', wrong.stream, { sha256: sha256('x') }), /does not match/);
    const uploads = await moto.client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'aborted/' }),
    );
    assert.deepEqual(uploads.Uploads ?? [], [], 'no parts left behind');
    // The listing does see an upload that was not aborted (so the check above can fail).
    const open = await moto.client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'aborted/open' }),
    );
    const seen = await moto.client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'aborted/' }),
    );
    assert.deepEqual(
      (seen.Uploads ?? []).map((u) => u.Key),
      ['aborted/open'],
    );
    await moto.client.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'aborted/open', UploadId: open.UploadId }),
    );
    assert.equal(await store.exists('src-fails'), false);
    assert.equal(await store.exists('bad-digest'), false);
  });

  it('keeps stores with different prefixes apart and strips the prefix from listed keys', async () => {
    const a = new S3ObjectStore({ bucket, prefix: 'tenant-a/', client: moto.client });
    const b = new S3ObjectStore({ bucket, prefix: 'tenant-b', client: moto.client });
    await a.put('x/1', Buffer.from('a'));
    await b.put('x/1', Buffer.from('b'));
    assert.equal((await readAll((await a.get('x/1')).body)).toString(), 'a');
    const listed: string[] = [];
    for await (const o of b.list('')) listed.push(o.key);
    assert.deepEqual(listed, ['x/1']);
    assert.match(a.description, /^s3:\/\/lifeline-conformance\/tenant-a\//);
  });

  it('reports a missing bucket as a backend error with a fix', async () => {
    const store = new S3ObjectStore({ bucket: 'no-such-bucket', client: moto.client });
    await assert.rejects(store.put('k', Buffer.from('x')), (err: unknown) => {
      assert.ok(err instanceof Error && 'code' in err && err.code === 'objectstore.backend');
      assert.match(String((err as { fix?: string }).fix), /create bucket no-such-bucket/);
      return true;
    });
  });

  it('works with SDK-default checksum headers too (WHEN_SUPPORTED)', async () => {
    const store = new S3ObjectStore({
      bucket,
      prefix: 'checksums',
      connection: {
        ...moto.config,
        requestChecksumCalculation: 'WHEN_SUPPORTED',
        responseChecksumValidation: 'WHEN_SUPPORTED',
      },
      partSize: 5 * MIB,
    });
    try {
      const gen = generatedStream(12 * MIB);
      const put = await store.put('multi', gen.stream);
      assert.equal(put.sha256, gen.digest());
      assert.equal(sha256(await readAll((await store.get('multi')).body)), gen.digest());
    } finally {
      await store.close();
    }
  });

  it('moto launcher: loopback endpoint, static credentials, log file', async () => {
    assert.match(moto.server.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(moto.config.credentials.accessKeyId, 'lifeline-test');
    assert.equal(moto.config.credentials.secretAccessKey, 'lifeline-test-secret');
    assert.equal(process.env['AWS_EC2_METADATA_DISABLED'], 'true');
    assert.equal(moto.config.forcePathStyle, true);
    assert.throws(() => motoClientConfig('http://10.0.0.1:5000'), /not 127\.0\.0\.1/);
    assert.ok(moto.server.process.running());
    const log = await readFile(moto.server.process.logFile, 'utf8');
    assert.match(log, /127\.0\.0\.1/);
  });
});
