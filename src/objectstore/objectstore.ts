import type { Readable } from 'node:stream';

/**
 * The ObjectStore port: a small storage contract with streams in and out, after Velero's
 * `pkg/plugin/velero/object_store.go`. Keys are `/`-separated relative paths (rules in
 * `keys.ts`, names in `layout.ts`). Every implementation passes the shared conformance suite in
 * `test/objectstore/conformance.ts`.
 *
 * Body ownership: a `Readable` passed to `put`/`putIfAbsent` belongs to the store from then on;
 * it is either consumed to its end or destroyed (on error, or when `putIfAbsent` finds the key
 * taken), so the caller never has to clean it up.
 */
export interface ObjectStore {
  /** A short description for logs and errors, e.g. `fs:/var/lib/lifeline/objects`. */
  readonly description: string;

  /**
   * Writes (or replaces) the object at `key`. Readers see either the old or the new object, never
   * a partial one. Resolves when the object is durable (fs: fsynced; S3: upload completed).
   * Throws {@link import('./errors.ts').ObjectChecksumMismatchError} (nothing written) when
   * `opts.sha256`/`opts.size` are given and the body does not match.
   */
  put(key: string, body: ObjectBody, opts?: PutOptions): Promise<PutResult>;

  /**
   * Writes `key` only if no object exists there. Among concurrent callers (processes included)
   * exactly one gets `{ created: true }`; the others get `{ created: false }`. A body that was
   * not written is destroyed.
   */
  putIfAbsent(key: string, body: ObjectBody, opts?: PutOptions): Promise<PutIfAbsentResult>;

  /**
   * Opens the object for reading. Throws {@link import('./errors.ts').ObjectNotFoundError} when
   * it does not exist. The caller must consume or destroy `body`.
   */
  get(key: string): Promise<GetResult>;

  /** The object's metadata. Throws `ObjectNotFoundError` when it does not exist. */
  head(key: string): Promise<ObjectMeta>;

  /** True when an object exists at `key`. */
  exists(key: string): Promise<boolean>;

  /**
   * Every object whose key starts with `prefix` (a plain string prefix, not only a folder), in
   * ascending byte order of the key. Pages are fetched lazily (S3: `ListObjectsV2`).
   * `prefix` may be `''` (everything).
   */
  list(prefix: string, opts?: ListOptions): AsyncIterable<ObjectSummary>;

  /**
   * The distinct "folders" directly below `prefix` (which must be `''` or end with `/`), each
   * ending with `/`, in ascending byte order. Like Velero's `ListCommonPrefixes` with `/`.
   */
  listFolders(prefix: string): AsyncIterable<string>;

  /** Removes the object. Deleting a missing key succeeds (as on S3). */
  delete(key: string): Promise<void>;

  /** Releases clients and handles. The store is unusable afterwards. */
  close(): Promise<void>;
}

/** What can be written: a stream (streamed, never buffered whole) or bytes. */
export type ObjectBody = Readable | Uint8Array;

/** Options for `put` and `putIfAbsent`. */
export interface PutOptions {
  /** MIME type stored with the object. Default: none (`application/octet-stream` on S3). */
  contentType?: string;
  /**
   * The expected SHA-256 (lower-case hex) of the body. When given, the write fails with a
   * checksum mismatch and leaves nothing behind if the body differs, and the value is stored
   * in the object's metadata (so `head` returns it on every backend). Default: none; the
   * digest is still computed and returned in {@link PutResult}.
   */
  sha256?: string;
  /** The expected size in bytes; checked like `sha256`. Default: not checked. */
  size?: number;
}

/** The outcome of a successful write. */
export interface PutResult {
  key: string;
  /** Bytes written. */
  size: number;
  /** SHA-256 of the bytes written (lower-case hex), computed while streaming. */
  sha256: string;
  /** Backend version tag (S3 ETag, fs: derived from inode/mtime), when known. */
  etag?: string;
}

/** The outcome of `putIfAbsent`. */
export type PutIfAbsentResult = ({ created: true } & PutResult) | { created: false; key: string };

/** Per-object metadata. */
export interface ObjectMeta {
  key: string;
  size: number;
  lastModified: Date;
  /** SHA-256 (lower-case hex) when the store knows it; see {@link PutOptions.sha256}. */
  sha256?: string;
  contentType?: string;
  etag?: string;
}

/** An entry of `list`. */
export interface ObjectSummary {
  key: string;
  size: number;
  lastModified: Date;
}

/** Options for `list`. */
export interface ListOptions {
  /**
   * How many keys to ask the backend for per page. Default 1000 (the S3 maximum). Exposed so
   * tests can exercise pagination with few objects.
   */
  pageSize?: number;
}

/** An open object: the byte stream and its metadata. */
export interface GetResult {
  body: Readable;
  meta: ObjectMeta;
}
