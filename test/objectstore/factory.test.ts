import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { createLogger } from '../../src/core/logger.ts';
import { parseConfig } from '../../src/core/config.ts';
import {
  FsObjectStore,
  openObjectStore,
  S3ObjectStore,
  s3ClientConfig,
} from '../../src/objectstore/index.ts';

const base = await mkdtemp(join(tmpdir(), 'lifeline-factory-'));
after(() => rm(base, { recursive: true, force: true }));

describe('openObjectStore', () => {
  it('opens the fs store from the configuration, creating its root', async () => {
    const config = parseConfig({ objectStore: { driver: 'fs', root: join(base, 'objects') } }, '<test>');
    const store = await openObjectStore(config.objectStore);
    assert.ok(store instanceof FsObjectStore);
    assert.ok((await stat(join(base, 'objects'))).isDirectory());
    await store.close();
  });

  it('reports an unusable fs root with what, where and fix', async () => {
    // (A path under /proc would do too, but Node 20's recursive mkdir loops forever there.)
    await writeFile(join(base, 'a-file'), 'not a folder');
    await assert.rejects(
      openObjectStore({ driver: 'fs', root: join(base, 'a-file', 'objects') }),
      (err: unknown) => {
        assert.ok(err instanceof Error && 'code' in err && err.code === 'objectstore.open');
        assert.match((err as unknown as { render(): string }).render(), /where: objectStore\.root/);
        return true;
      },
    );
  });

  it('opens the s3 store from the configuration without dialling anything', async () => {
    const config = parseConfig(
      {
        objectStore: {
          driver: 's3',
          bucket: 'backups',
          prefix: 'clusters/prod',
          endpoint: 'http://127.0.0.1:9',
          forcePathStyle: true,
        },
      },
      '<test>',
    );
    const store = await openObjectStore(config.objectStore, {
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'do-not-log-me' },
    });
    assert.ok(store instanceof S3ObjectStore);
    assert.equal(store.description, 's3://backups/clusters/prod/ at http://127.0.0.1:9');
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    createLogger({ destination: sink }).info({ store }, 'opened');
    assert.match(lines.join(''), /s3:\/\/backups\/clusters\/prod\//);
    assert.doesNotMatch(lines.join('') + inspect(store, { depth: 10 }), /do-not-log-me|AKIDEXAMPLE/);
    await store.close();
  });
});

describe('s3ClientConfig', () => {
  it('uses explicit credentials, then static env credentials', () => {
    const explicit = s3ClientConfig({ credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }, {});
    assert.deepEqual(explicit.credentials, { accessKeyId: 'a', secretAccessKey: 'b' });
    const fromEnv = s3ClientConfig(
      {},
      { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_SESSION_TOKEN: 't' },
    );
    assert.deepEqual(fromEnv.credentials, { accessKeyId: 'x', secretAccessKey: 'y', sessionToken: 't' });
    assert.equal(s3ClientConfig({}, {}).credentials, undefined, 'otherwise the SDK default chain');
  });

  it('asks for checksums only when required on S3-compatible endpoints, SDK default on AWS', () => {
    const compatible = s3ClientConfig({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true }, {});
    assert.equal(compatible.requestChecksumCalculation, 'WHEN_REQUIRED');
    assert.equal(compatible.responseChecksumValidation, 'WHEN_REQUIRED');
    assert.equal(compatible.forcePathStyle, true);
    const aws = s3ClientConfig({ region: 'eu-west-1' }, {});
    assert.equal(aws.requestChecksumCalculation, 'WHEN_SUPPORTED');
    assert.equal(aws.region, 'eu-west-1');
    assert.equal(aws.forcePathStyle, false);
    const forced = s3ClientConfig(
      { endpoint: 'http://127.0.0.1:9000', requestChecksumCalculation: 'WHEN_SUPPORTED' },
      {},
    );
    assert.equal(forced.responseChecksumValidation, 'WHEN_SUPPORTED');
  });
});
