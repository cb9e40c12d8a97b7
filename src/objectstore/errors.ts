import { LifelineError } from '../core/errors.ts';

/** No object exists at the key (code `objectstore.not_found`). */
export class ObjectNotFoundError extends LifelineError {
  readonly key: string;
  constructor(store: string, key: string, cause?: unknown) {
    super('objectstore.not_found', `object ${key} not found`, {
      where: `${store} key ${key}`,
      fix: 'check the key (list the prefix to see what exists) and the configured object store',
      cause,
    });
    this.name = 'ObjectNotFoundError';
    this.key = key;
  }
}

/** The key violates the key rules in `keys.ts` (code `objectstore.invalid_key`). */
export class InvalidKeyError extends LifelineError {
  readonly key: string;
  constructor(key: string, reason: string) {
    super('objectstore.invalid_key', `invalid object key ${JSON.stringify(key)}: ${reason}`, {
      where: `key ${JSON.stringify(key)}`,
      fix: 'build keys with the functions in src/objectstore/layout.ts',
    });
    this.name = 'InvalidKeyError';
    this.key = key;
  }
}

/** The body did not match the expected sha256/size; nothing was written (`objectstore.checksum`). */
export class ObjectChecksumMismatchError extends LifelineError {
  readonly key: string;
  constructor(store: string, key: string, detail: string) {
    super('objectstore.checksum', `body for ${key} does not match: ${detail}`, {
      where: `${store} key ${key}`,
      fix: 'the source changed or was corrupted while streaming; re-read it and retry',
    });
    this.name = 'ObjectChecksumMismatchError';
    this.key = key;
  }
}

/**
 * The key cannot be stored because a path element is both an object and a folder, e.g. `a`
 * and `a/b` (`objectstore.key_conflict`). Only the filesystem store has this limit; keys from
 * `layout.ts` never conflict.
 */
export class KeyConflictError extends LifelineError {
  readonly key: string;
  constructor(store: string, key: string, cause?: unknown) {
    super('objectstore.key_conflict', `key ${key} conflicts with an existing object or folder`, {
      where: `${store} key ${key}`,
      fix: 'an object cannot also be a folder of other keys in the fs store; use keys from layout.ts',
      cause,
    });
    this.name = 'KeyConflictError';
    this.key = key;
  }
}

/** A backend call failed for another reason (`objectstore.backend`); `cause` has the details. */
export class ObjectStoreBackendError extends LifelineError {
  constructor(store: string, operation: string, key: string, cause: unknown, fix?: string) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('objectstore.backend', `${operation} ${key} failed: ${reason}`, {
      where: `${store} key ${key}`,
      fix: fix ?? 'check that the object store is reachable and the credentials allow this operation',
      cause,
    });
    this.name = 'ObjectStoreBackendError';
  }
}

/** True when `err` is an {@link ObjectNotFoundError}. */
export function isNotFound(err: unknown): err is ObjectNotFoundError {
  return err instanceof ObjectNotFoundError;
}
