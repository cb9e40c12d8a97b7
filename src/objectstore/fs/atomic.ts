import { mkdir, open, rename, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { dirname, resolve } from 'node:path';
import { tempPathFor } from './paths.ts';

/** fsyncs a folder so a rename/link/unlink inside it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes `path`, ignoring "already gone". */
export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Writes a small file atomically: temp file in the same folder, write, fsync, rename over the
 * target, fsync the folder. Creates missing parent folders.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlinkIfExists(temp);
    throw err;
  }
  await fsyncDir(dirname(path));
}

/**
 * Removes now-empty folders from `dir` up to (not including) `stopAt`. A folder that is not
 * empty (or that a concurrent writer just filled) ends the walk.
 */
export async function removeEmptyParents(dir: string, stopAt: string): Promise<void> {
  const stop = resolve(stopAt);
  let current = resolve(dir);
  while (current !== stop && current.startsWith(stop)) {
    try {
      await rmdir(current);
    } catch {
      return; // ENOTEMPTY, ENOENT, or a concurrent writer: leave it
    }
    current = dirname(current);
  }
}

/**
 * A Writable that writes to an open FileHandle and leaves it open, so the caller can fsync and
 * close it. (`FileHandle.createWriteStream({ autoClose: false })` keeps a reference that makes
 * `close()` wait forever on Node 20.)
 */
export function fileSink(handle: FileHandle): Writable {
  return new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      handle.write(chunk).then(
        () => {
          cb();
        },
        (err: unknown) => {
          cb(err as Error);
        },
      );
    },
    writev(chunks, cb) {
      handle.writev(chunks.map((c) => c.chunk as Buffer)).then(
        () => {
          cb();
        },
        (err: unknown) => {
          cb(err as Error);
        },
      );
    },
  });
}
