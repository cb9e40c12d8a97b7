import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
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
  it('putIfAbsent over multipart: If-None-Match on CompleteMultipartUpload lets one writer win', async () => {
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
      const meta = await store.head(key);
      assert.equal(meta.size, 11 * MIB);
      const back = sha256(await readAll((await store.get(key)).body));
      assert.equal(back, winner.digest(), 'the stored object is the winner’s');
    }
    const uploads = await moto.client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'multipart-claims/' }),
    );
    assert.deepEqual(uploads.Uploads ?? [], [], 'losers aborted their multipart uploads');
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
    assert.deepEqual(Object.keys(moto.config.credentials).sort(), ['accessKeyId', 'secretAccessKey']);
    assert.equal(moto.config.forcePathStyle, true);
    assert.throws(() => motoClientConfig('http://10.0.0.1:5000'), /not 127\.0\.0\.1/);
    assert.ok(moto.server.process.running());
    const log = await readFile(moto.server.process.logFile, 'utf8');
    assert.match(log, /127\.0\.0\.1/);
  });
});
