import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { assertValidKey } from '../keys.ts';

/** Folder under the root that mirrors the key tree with one metadata file per object. */
export const META_DIR = '.meta';

/**
 * Maps keys to paths under one root. Keys are validated first (no `..`, no empty or dot-led
 * segments, no `\`), so every path stays inside the root and never collides with the dot-named
 * temp files and metadata folder the store keeps beside the objects.
 */
export class KeyPaths {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The object's file. */
  object(key: string): string {
    return this.inside(join(this.root, ...this.segments(key)));
  }

  /** The object's metadata file (`<root>/.meta/<key>`). */
  meta(key: string): string {
    return this.inside(join(this.root, META_DIR, ...this.segments(key)));
  }

  /** The folder for a `listFolders` prefix (`''` or ending with `/`). */
  folder(prefix: string): string {
    if (prefix === '') return this.root;
    return this.inside(join(this.root, ...this.segments(prefix.slice(0, -1))));
  }

  private segments(key: string): string[] {
    assertValidKey(key);
    return key.split('/');
  }

  private inside(path: string): string {
    if (!path.startsWith(this.root + sep)) throw new Error(`internal: path ${path} escapes ${this.root}`);
    return path;
  }
}

/** A unique dot-named temp file beside `target` (same folder, so rename/link stay atomic). */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.tmp-${basename(target)}-${randomBytes(6).toString('hex')}`);
}
