import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { ObjectChecksumMismatchError } from './errors.ts';
import type { ObjectBody, PutOptions } from './objectstore.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * A pass-through stream that hashes (SHA-256) and counts the bytes flowing through it. When an
 * expected digest or size is given, it fails at the end of the stream, before the store commits
 * the object, with {@link ObjectChecksumMismatchError}.
 */
export class DigestStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private hex: string | undefined;

  constructor(
    private readonly store: string,
    private readonly key: string,
    private readonly expected: Pick<PutOptions, 'sha256' | 'size'> = {},
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (this.expected.size !== undefined && this.bytes > this.expected.size) {
      cb(
        new ObjectChecksumMismatchError(
          this.store,
          this.key,
          `more than the expected ${this.expected.size} bytes`,
        ),
      );
      return;
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.hex = this.hash.digest('hex');
    if (this.expected.size !== undefined && this.bytes !== this.expected.size) {
      cb(
        new ObjectChecksumMismatchError(
          this.store,
          this.key,
          `${this.bytes} bytes, expected ${this.expected.size}`,
        ),
      );
      return;
    }
    if (this.expected.sha256 !== undefined && this.hex !== this.expected.sha256) {
      cb(
        new ObjectChecksumMismatchError(
          this.store,
          this.key,
          `sha256 ${this.hex}, expected ${this.expected.sha256}`,
        ),
      );
      return;
    }
    cb();
  }

  /**
   * Bytes seen so far. (Not named `size`: lib-storage's Upload reads `Body.size` as the total
   * length of Blob-like bodies.)
   */
  get bytesSeen(): number {
    return this.bytes;
  }

  /** The digest (lower-case hex); only after the stream has ended. */
  get sha256(): string {
    if (this.hex === undefined) throw new Error(`digest of ${this.key} read before the stream ended`);
    return this.hex;
  }
}

/** Throws when `opts` has a malformed `sha256` or `size` (a programming error, not I/O). */
export function validatePutOptions(opts: PutOptions): void {
  if (opts.sha256 !== undefined && !SHA256_HEX.test(opts.sha256)) {
    throw new TypeError(
      `PutOptions.sha256 must be 64 lower-case hex characters, got ${JSON.stringify(opts.sha256)}`,
    );
  }
  if (opts.size !== undefined && (!Number.isSafeInteger(opts.size) || opts.size < 0)) {
    throw new TypeError(`PutOptions.size must be a non-negative integer, got ${opts.size}`);
  }
}

/** A Readable for any body: streams pass through, bytes become a one-chunk stream. */
export function toReadable(body: ObjectBody): Readable {
  if (body instanceof Readable) return body;
  return Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)], { objectMode: false });
}

/** Destroys a stream body that will not be written (see the ownership rule on ObjectStore). */
export function discardBody(body: ObjectBody): void {
  if (body instanceof Readable) body.destroy();
}
