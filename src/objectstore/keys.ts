import { InvalidKeyError } from './errors.ts';

/** Longest key in UTF-8 bytes (the S3 limit). */
export const MAX_KEY_BYTES = 1024;

/**
 * Why `segment` is not a valid key segment, or undefined when it is. Rules, shared by every
 * backend so that a key valid on one is valid on all: non-empty; not `.` or `..`; does not start
 * with `.` (the fs store keeps temp files and metadata under dot-names); no `\`, NUL or other
 * control characters.
 */
function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'empty segment (leading, trailing or double "/")';
  if (segment === '.' || segment === '..') return `segment "${segment}" is not allowed`;
  if (segment.startsWith('.')) return `segment "${segment}" starts with "."`;
  if (segment.includes('\\')) return 'contains "\\"';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(segment)) return 'contains a control character';
  return undefined;
}

/** Throws {@link InvalidKeyError} unless `key` is a valid object key (see `segmentProblem`). */
export function assertValidKey(key: string): void {
  if (key === '') throw new InvalidKeyError(key, 'empty key');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new InvalidKeyError(key, `longer than ${MAX_KEY_BYTES} bytes`);
  }
  for (const segment of key.split('/')) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) throw new InvalidKeyError(key, problem);
  }
}

/**
 * Throws unless `prefix` is a valid list prefix: `''`, or a valid key, or a valid key followed
 * by `/`. A trailing partial segment (`backups/da`) is allowed; it matches by string prefix.
 */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  assertValidKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

/** Throws unless `prefix` is `''` or a valid key followed by `/` (for `listFolders`). */
export function assertValidFolder(prefix: string): void {
  if (prefix === '') return;
  if (!prefix.endsWith('/')) throw new InvalidKeyError(prefix, 'a folder prefix must end with "/"');
  assertValidKey(prefix.slice(0, -1));
}

/** Compares keys in ascending UTF-8 byte order (the order S3 lists them in). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
