import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { pipeline, Readable } from 'node:stream';
import { discardBody, DigestStream, toReadable, validatePutOptions } from '../digest.ts';
import { ObjectChecksumMismatchError, ObjectNotFoundError, ObjectStoreBackendError } from '../errors.ts';
import { assertValidFolder, assertValidKey, assertValidPrefix } from '../keys.ts';
import type {
  GetResult,
  ListOptions,
  ObjectBody,
  ObjectMeta,
  ObjectStore,
  ObjectSummary,
  PutIfAbsentResult,
  PutOptions,
  PutResult,
} from '../objectstore.ts';
import { createS3Client, type S3ConnectionOptions } from './client.ts';

/** User-metadata name (`x-amz-meta-…`) that holds the SHA-256 given in {@link PutOptions.sha256}. */
export const SHA256_METADATA = 'lifeline-sha256';

/** Options for {@link S3ObjectStore}. */
export interface S3ObjectStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, e.g. `clusters/prod`. Default `''` (bucket root). */
  prefix?: string;
  /** An existing client (not destroyed by `close`). Default: one built from `connection`. */
  client?: S3Client;
  /** Used when `client` is not given. Default: `{}` (see {@link S3ConnectionOptions}). */
  connection?: S3ConnectionOptions;
  /** Environment for credentials when `connection.credentials` is unset. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Multipart part size in bytes (min 5 MiB). Default 8 MiB. Memory use ≈ partSize × (queueSize + 1). */
  partSize?: number;
  /** Parts uploaded concurrently. Default 4. */
  queueSize?: number;
}

const MIB = 1024 * 1024;

function statusOf(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}

function isNotFound(err: unknown): boolean {
  return (
    statusOf(err) === 404 ||
    (err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound'))
  );
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  assertValidKey(trimmed);
  return `${trimmed}/`;
}

/**
 * An ObjectStore on S3 or an S3-compatible store (aws-sdk v3). Writes stream through
 * `@aws-sdk/lib-storage` `Upload` (one PutObject below `partSize`, multipart above, aborted on
 * failure so no parts are left behind). `putIfAbsent` sends `If-None-Match: *` on the PutObject or
 * CompleteMultipartUpload, so the store itself decides the single winner (HTTP 412 for the others).
 */
export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(opts: S3ObjectStoreOptions) {
    this.bucket = opts.bucket;
    this.prefix = normalizePrefix(opts.prefix ?? '');
    this.ownsClient = opts.client === undefined;
    this.client = opts.client ?? createS3Client(opts.connection ?? {}, opts.env);
    this.partSize = Math.max(opts.partSize ?? 8 * MIB, 5 * MIB);
    this.queueSize = opts.queueSize ?? 4;
    const where = opts.connection?.endpoint === undefined ? '' : ` at ${opts.connection.endpoint}`;
    this.description = `s3://${this.bucket}/${this.prefix}${where}`;
  }

  private fullKey(key: string): string {
    assertValidKey(key);
    return `${this.prefix}${key}`;
  }

  private backendError(operation: string, key: string, err: unknown): ObjectStoreBackendError {
    const status = statusOf(err);
    const fix =
      status === 403
        ? 'check the S3 credentials and that their policy allows this operation on the bucket'
        : err instanceof S3ServiceException && err.name === 'NoSuchBucket'
          ? `create bucket ${this.bucket} or fix objectStore.bucket in the configuration`
          : undefined;
    return new ObjectStoreBackendError(this.description, operation, key, err, fix);
  }

  private async upload(
    key: string,
    body: ObjectBody,
    opts: PutOptions,
    ifAbsent: boolean,
  ): Promise<PutResult> {
    const digest = new DigestStream(this.description, key, opts);
    // pipeline() destroys the digest with the source's error, which aborts the upload.
    const stream = pipeline(toReadable(body), digest, () => undefined);
    const upload = new Upload({
      client: this.client,
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
      params: {
        Bucket: this.bucket,
        Key: this.fullKey(key),
        Body: stream,
        ...(opts.contentType === undefined ? {} : { ContentType: opts.contentType }),
        ...(opts.sha256 === undefined ? {} : { Metadata: { [SHA256_METADATA]: opts.sha256 } }),
        ...(ifAbsent ? { IfNoneMatch: '*' } : {}),
      },
    });
    try {
      const out = await upload.done();
      return {
        key,
        size: digest.bytesSeen,
        sha256: digest.sha256,
        ...(out.ETag === undefined ? {} : { etag: out.ETag }),
      };
    } catch (err) {
      stream.destroy();
      throw err;
    }
  }

  async put(key: string, body: ObjectBody, opts: PutOptions = {}): Promise<PutResult> {
    try {
      assertValidKey(key);
      validatePutOptions(opts);
    } catch (err) {
      discardBody(body);
      throw err;
    }
    try {
      return await this.upload(key, body, opts, false);
    } catch (err) {
      if (err instanceof ObjectChecksumMismatchError) throw err;
      throw this.backendError('put', key, err);
    }
  }

  async putIfAbsent(key: string, body: ObjectBody, opts: PutOptions = {}): Promise<PutIfAbsentResult> {
    try {
      assertValidKey(key);
      validatePutOptions(opts);
      // Saves uploading a body that would be refused; the conditional write below decides.
      if (await this.exists(key)) {
        discardBody(body);
        return { created: false, key };
      }
    } catch (err) {
      discardBody(body);
      throw err;
    }
    try {
      return { created: true, ...(await this.upload(key, body, opts, true)) };
    } catch (err) {
      if (statusOf(err) === 412) return { created: false, key };
      if (err instanceof ObjectChecksumMismatchError) throw err;
      if (statusOf(err) === 409) {
        throw new ObjectStoreBackendError(
          this.description,
          'putIfAbsent',
          key,
          err,
          'another conditional write to this key was in flight; retry',
        );
      }
      throw this.backendError('putIfAbsent', key, err);
    }
  }

  async get(key: string): Promise<GetResult> {
    const fullKey = this.fullKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: fullKey }));
      if (!(out.Body instanceof Readable)) {
        throw new Error('the S3 client returned a non-stream body (expected a Node.js Readable)');
      }
      const sha256 = out.Metadata?.[SHA256_METADATA];
      const meta: ObjectMeta = {
        key,
        size: out.ContentLength ?? 0,
        lastModified: out.LastModified ?? new Date(0),
        ...(sha256 === undefined ? {} : { sha256 }),
        ...(out.ContentType === undefined ? {} : { contentType: out.ContentType }),
        ...(out.ETag === undefined ? {} : { etag: out.ETag }),
      };
      return { body: out.Body, meta };
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(this.description, key, err);
      throw this.backendError('get', key, err);
    }
  }

  async head(key: string): Promise<ObjectMeta> {
    const fullKey = this.fullKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: fullKey }));
      const sha256 = out.Metadata?.[SHA256_METADATA];
      return {
        key,
        size: out.ContentLength ?? 0,
        lastModified: out.LastModified ?? new Date(0),
        ...(sha256 === undefined ? {} : { sha256 }),
        ...(out.ContentType === undefined ? {} : { contentType: out.ContentType }),
        ...(out.ETag === undefined ? {} : { etag: out.ETag }),
      };
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(this.description, key, err);
      throw this.backendError('head', key, err);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.head(key);
      return true;
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return false;
      throw err;
    }
  }

  async *list(prefix: string, opts: ListOptions = {}): AsyncIterable<ObjectSummary> {
    assertValidPrefix(prefix);
    for await (const page of this.pages('list', prefix, { MaxKeys: opts.pageSize ?? 1000 })) {
      for (const obj of page.Contents ?? []) {
        if (obj.Key === undefined) continue;
        yield {
          key: obj.Key.slice(this.prefix.length),
          size: obj.Size ?? 0,
          lastModified: obj.LastModified ?? new Date(0),
        };
      }
    }
  }

  async *listFolders(prefix: string): AsyncIterable<string> {
    assertValidFolder(prefix);
    for await (const page of this.pages('list folders of', prefix, { Delimiter: '/' })) {
      for (const p of page.CommonPrefixes ?? []) {
        if (p.Prefix !== undefined) yield p.Prefix.slice(this.prefix.length);
      }
    }
  }

  /** ListObjectsV2 pages under `prefix`, following continuation tokens. */
  private async *pages(
    op: string,
    prefix: string,
    params: { MaxKeys?: number; Delimiter?: string },
  ): AsyncIterable<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: `${this.prefix}${prefix}`,
            ...params,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        );
      } catch (err) {
        throw this.backendError(op, prefix, err);
      }
      yield page;
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(key: string): Promise<void> {
    const fullKey = this.fullKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: fullKey }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw this.backendError('delete', key, err);
    }
  }

  /** What logs see: the description only, never the client or its credentials. */
  toJSON(): { store: string } {
    return { store: this.description };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `S3ObjectStore(${this.description})`;
  }

  close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
    return Promise.resolve();
  }
}
