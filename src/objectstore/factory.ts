import type { LifelineConfig } from '../core/config.ts';
import { LifelineError } from '../core/errors.ts';
import { FsObjectStore } from './fs/fs-store.ts';
import type { ObjectStore } from './objectstore.ts';
import type { S3ConnectionOptions, S3Credentials } from './s3/client.ts';
import { S3ObjectStore } from './s3/s3-store.ts';

/** The `objectStore` section of the configuration. */
export type ObjectStoreConfig = LifelineConfig['objectStore'];

/** Settings that do not belong in the configuration file. */
export interface OpenObjectStoreOptions {
  /** S3 credentials. Default: from `env` (AWS_ACCESS_KEY_ID/…), else the SDK default chain. */
  credentials?: S3Credentials;
  /** Environment for S3 credentials. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Checksum behaviour and retries for S3 (see {@link S3ConnectionOptions}). Default: its defaults. */
  s3?: Pick<S3ConnectionOptions, 'requestChecksumCalculation' | 'responseChecksumValidation' | 'maxAttempts'>;
  /** S3 multipart part size in bytes. Default 8 MiB. */
  partSize?: number;
}

/**
 * Opens the ObjectStore the configuration names: `fs` (root folder created if missing) or `s3`.
 * Does not create S3 buckets. Credentials are passed to the client only, never logged.
 */
export async function openObjectStore(
  config: ObjectStoreConfig,
  opts: OpenObjectStoreOptions = {},
): Promise<ObjectStore> {
  switch (config.driver) {
    case 'fs': {
      const store = new FsObjectStore({ root: config.root });
      try {
        await store.init();
      } catch (err) {
        throw new LifelineError('objectstore.open', `cannot create object store folder ${config.root}`, {
          where: 'objectStore.root',
          fix: 'point objectStore.root at a writable folder',
          cause: err,
        });
      }
      return store;
    }
    case 's3':
      return new S3ObjectStore({
        bucket: config.bucket,
        prefix: config.prefix,
        connection: {
          region: config.region,
          forcePathStyle: config.forcePathStyle,
          ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
          ...(opts.credentials === undefined ? {} : { credentials: opts.credentials }),
          ...opts.s3,
        },
        ...(opts.env === undefined ? {} : { env: opts.env }),
        ...(opts.partSize === undefined ? {} : { partSize: opts.partSize }),
      });
  }
}
