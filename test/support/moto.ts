/**
 * Test harness for S3: one real moto_server per test file on 127.0.0.1, stopped (and its log
 * folder removed) in `after()`, with a ready S3Client that uses explicit static credentials.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import {
  motoClientConfig,
  startMoto,
  type MotoClientConfig,
  type MotoServer,
} from '../../src/sandbox/moto.ts';

/** A moto server plus a client for it. */
export interface TestMoto {
  server: MotoServer;
  /** Client settings (static credentials, 127.0.0.1 endpoint, path-style). */
  config: MotoClientConfig;
  client: S3Client;
  /** Creates a bucket and returns its name. */
  createBucket(name: string): Promise<string>;
}

/** Starts moto_server for this test file; registers its teardown with `after()`. */
export async function startTestMoto(): Promise<TestMoto> {
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  const logDir = await mkdtemp(join(tmpdir(), 'lifeline-moto-'));
  const server = await startMoto({ logDir });
  const config = motoClientConfig(server.endpoint);
  const client = new S3Client(config);
  after(async () => {
    client.destroy();
    await server.stop();
    await rm(logDir, { recursive: true, force: true });
  });
  return {
    server,
    config,
    client,
    createBucket: async (name) => {
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
  };
}
