export type {
  GetResult,
  ListOptions,
  ObjectBody,
  ObjectMeta,
  ObjectStore,
  ObjectSummary,
  PutIfAbsentResult,
  PutOptions,
  PutResult,
} from './objectstore.ts';
export {
  InvalidKeyError,
  isNotFound,
  KeyConflictError,
  ObjectChecksumMismatchError,
  ObjectNotFoundError,
  ObjectStoreBackendError,
} from './errors.ts';
export { assertValidKey, compareKeys, MAX_KEY_BYTES } from './keys.ts';
export { backupNameOf, decodeSegment, encodeSegment, layout } from './layout.ts';
export { openObjectStore, type ObjectStoreConfig, type OpenObjectStoreOptions } from './factory.ts';
export { FsObjectStore, type FsObjectStoreOptions } from './fs/fs-store.ts';
export { MemoryObjectStore, type MemoryObjectStoreOptions } from './memory/memory-store.ts';
export { S3ObjectStore, SHA256_METADATA, type S3ObjectStoreOptions } from './s3/s3-store.ts';
export { createS3Client, s3ClientConfig, type S3ConnectionOptions, type S3Credentials } from './s3/client.ts';
