import type { BigIntStats } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readFile, rename, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { discardBody, DigestStream, toReadable, validatePutOptions } from '../digest.ts';
import { KeyConflictError, ObjectNotFoundError, ObjectStoreBackendError } from '../errors.ts';
import { assertValidFolder, assertValidPrefix, compareKeys } from '../keys.ts';
import type {
  GetResult,
  ObjectBody,
  ObjectMeta,
  ObjectStore,
  ObjectSummary,
  PutIfAbsentResult,
  PutOptions,
  PutResult,
} from '../objectstore.ts';
import { fileSink, fsyncDir, removeEmptyParents, unlinkIfExists, writeFileAtomic } from './atomic.ts';
import { KeyPaths, META_DIR, tempPathFor } from './paths.ts';

/** Options for {@link FsObjectStore}. */
export interface FsObjectStoreOptions {
  /** Folder that holds the objects; created if missing. */
  root: string;
  /** Mode of object files. Default `0o600` (backups may hold secrets). */
  fileMode?: number;
}

/** The metadata file kept for each object under `<root>/.meta/`. */
interface SidecarV1 {
  v: 1;
  sha256: string;
  size: number;
  contentType?: string;
  /** Identity of the object file it describes; a sidecar that does not match is ignored. */
  ino: string;
  mtimeNs: string;
}

interface WrittenTemp {
  temp: string;
  size: number;
  sha256: string;
  ino: bigint;
  mtimeNs: bigint;
}

const READ_CHUNK = 1024 * 1024;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function etagOf(st: { ino: bigint; mtimeNs: bigint }): string {
  return `"${st.ino.toString(16)}-${st.mtimeNs.toString(16)}"`;
}

/**
 * An ObjectStore on a local (or mounted) filesystem. Each key is a file under `root` (so the
 * tree can be browsed and copied with ordinary tools); SHA-256, size and content type live in
 * `<root>/.meta/<key>`.
 *
 * Durability and atomicity: a write goes to a dot-named temp file in the object's own folder,
 * is fsynced, then renamed over the target (`put`) or hard-linked to it (`putIfAbsent`, which
 * fails with EEXIST when the key exists, so exactly one writer wins even across processes), and
 * the folder is fsynced. Readers never see a partial object.
 *
 * Limit: a key cannot be both an object and a folder of other keys (`a` and `a/b`); such a
 * write throws {@link KeyConflictError}.
 */
export class FsObjectStore implements ObjectStore {
  readonly description: string;
  private readonly paths: KeyPaths;
  private readonly fileMode: number;

  constructor(opts: FsObjectStoreOptions) {
    this.paths = new KeyPaths(opts.root);
    this.description = `fs:${this.paths.root}`;
    this.fileMode = opts.fileMode ?? 0o600;
  }

  /** Creates the root folder. Called by `openObjectStore`; safe to call again. */
  async init(): Promise<void> {
    await mkdir(this.paths.root, { recursive: true });
  }

  private async ensureDir(key: string, dir: string): Promise<void> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      if (errno(err) === 'ENOTDIR' || errno(err) === 'EEXIST')
        throw new KeyConflictError(this.description, key, err);
      throw new ObjectStoreBackendError(this.description, 'mkdir for', key, err);
    }
  }

  /** Creates the temp file, retrying when a concurrent delete removes the empty folder. */
  private async openTemp(key: string, target: string): Promise<{ temp: string; handle: FileHandle }> {
    for (let attempt = 0; ; attempt++) {
      await this.ensureDir(key, dirname(target));
      const temp = tempPathFor(target);
      try {
        return { temp, handle: await open(temp, 'wx', this.fileMode) };
      } catch (err) {
        if (errno(err) !== 'ENOENT' || attempt >= 5) {
          throw new ObjectStoreBackendError(this.description, 'create temp file for', key, err);
        }
      }
    }
  }

  private async writeTemp(
    key: string,
    target: string,
    body: ObjectBody,
    opts: PutOptions,
  ): Promise<WrittenTemp> {
    let opened: { temp: string; handle: FileHandle };
    try {
      opened = await this.openTemp(key, target);
    } catch (err) {
      discardBody(body);
      throw err;
    }
    const { temp, handle } = opened;
    try {
      const digest = new DigestStream(this.description, key, opts);
      try {
        await pipeline(toReadable(body), digest, fileSink(handle));
        await handle.sync();
        const st = await handle.stat({ bigint: true });
        return { temp, size: digest.bytesSeen, sha256: digest.sha256, ino: st.ino, mtimeNs: st.mtimeNs };
      } finally {
        await handle.close();
      }
    } catch (err) {
      await unlinkIfExists(temp);
      throw err;
    }
  }

  private async writeSidecar(key: string, written: WrittenTemp, opts: PutOptions): Promise<void> {
    const sidecar: SidecarV1 = {
      v: 1,
      sha256: written.sha256,
      size: written.size,
      ...(opts.contentType === undefined ? {} : { contentType: opts.contentType }),
      ino: written.ino.toString(),
      mtimeNs: written.mtimeNs.toString(),
    };
    await writeFileAtomic(this.paths.meta(key), JSON.stringify(sidecar));
  }

  private result(key: string, w: WrittenTemp): PutResult {
    return { key, size: w.size, sha256: w.sha256, etag: etagOf(w) };
  }

  async put(key: string, body: ObjectBody, opts: PutOptions = {}): Promise<PutResult> {
    let target: string;
    try {
      target = this.paths.object(key);
      validatePutOptions(opts);
    } catch (err) {
      discardBody(body);
      throw err;
    }
    const written = await this.writeTemp(key, target, body, opts);
    try {
      // Sidecar first: it names the new file's inode, so until the rename it matches nothing.
      await this.writeSidecar(key, written, opts);
      await rename(written.temp, target);
    } catch (err) {
      await unlinkIfExists(written.temp);
      if (errno(err) === 'EISDIR' || errno(err) === 'ENOTEMPTY' || errno(err) === 'ENOTDIR') {
        throw new KeyConflictError(this.description, key, err);
      }
      throw new ObjectStoreBackendError(this.description, 'put', key, err);
    }
    await fsyncDir(dirname(target));
    return this.result(key, written);
  }

  async putIfAbsent(key: string, body: ObjectBody, opts: PutOptions = {}): Promise<PutIfAbsentResult> {
    let target: string;
    try {
      target = this.paths.object(key);
      validatePutOptions(opts);
      if (await this.exists(key)) {
        discardBody(body);
        return { created: false, key };
      }
    } catch (err) {
      discardBody(body);
      throw err;
    }
    const written = await this.writeTemp(key, target, body, opts);
    try {
      await link(written.temp, target);
    } catch (err) {
      if (errno(err) === 'EEXIST') {
        const st = await lstat(target).catch(() => undefined);
        if (st?.isDirectory() === true) throw new KeyConflictError(this.description, key, err);
        return { created: false, key };
      }
      throw new ObjectStoreBackendError(this.description, 'putIfAbsent', key, err);
    } finally {
      await unlinkIfExists(written.temp);
    }
    await fsyncDir(dirname(target));
    await this.writeSidecar(key, written, opts);
    return { created: true, ...this.result(key, written) };
  }

  private async readSidecar(key: string, st: BigIntStats): Promise<Partial<ObjectMeta>> {
    let sidecar: Partial<Omit<SidecarV1, 'v'>> & { v?: unknown };
    try {
      sidecar = JSON.parse(await readFile(this.paths.meta(key), 'utf8')) as typeof sidecar;
    } catch {
      return {}; // missing (crash between link and sidecar) or unreadable: no digest known
    }
    const matches =
      sidecar.v === 1 &&
      sidecar.ino === st.ino.toString() &&
      sidecar.mtimeNs === st.mtimeNs.toString() &&
      sidecar.size !== undefined &&
      BigInt(sidecar.size) === st.size &&
      typeof sidecar.sha256 === 'string';
    if (!matches || sidecar.sha256 === undefined) return {};
    return {
      sha256: sidecar.sha256,
      ...(sidecar.contentType === undefined ? {} : { contentType: sidecar.contentType }),
    };
  }

  private async metaOf(key: string, st: BigIntStats): Promise<ObjectMeta> {
    return {
      key,
      size: Number(st.size),
      lastModified: new Date(Number(st.mtimeNs / 1_000_000n)),
      etag: etagOf(st),
      ...(await this.readSidecar(key, st)),
    };
  }

  async get(key: string): Promise<GetResult> {
    const path = this.paths.object(key);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR')
        throw new ObjectNotFoundError(this.description, key);
      throw new ObjectStoreBackendError(this.description, 'get', key, err);
    }
    try {
      const st = await handle.stat({ bigint: true });
      if (!st.isFile()) throw new ObjectNotFoundError(this.description, key);
      const meta = await this.metaOf(key, st);
      return { body: handle.createReadStream({ highWaterMark: READ_CHUNK }), meta };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  private async statObject(key: string): Promise<BigIntStats | undefined> {
    const path = this.paths.object(key);
    try {
      const st = await stat(path, { bigint: true });
      return st.isFile() ? st : undefined;
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
      throw new ObjectStoreBackendError(this.description, 'stat', key, err);
    }
  }

  async head(key: string): Promise<ObjectMeta> {
    const st = await this.statObject(key);
    if (st === undefined) throw new ObjectNotFoundError(this.description, key);
    return this.metaOf(key, st);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.statObject(key)) !== undefined;
  }

  /** Sorted, visible entries of a folder; a missing folder (or a file) has none. */
  private async entries(dir: string): Promise<{ name: string; isDir: boolean }[]> {
    let dirents;
    try {
      dirents = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return [];
      throw err;
    }
    return dirents
      .filter((d) => !d.name.startsWith('.') && (d.isDirectory() || d.isFile()))
      .map((d) => ({ name: d.name, isDir: d.isDirectory() }))
      .sort((a, b) => compareKeys(a.isDir ? `${a.name}/` : a.name, b.isDir ? `${b.name}/` : b.name));
  }

  /**
   * Walks `dir` (whose keys start with `keyPrefix`) depth-first. Sorting folders as `name/`
   * makes the walk yield keys in the same byte order as an S3 listing.
   */
  private async *walk(dir: string, keyPrefix: string, namePrefix: string): AsyncGenerator<ObjectSummary> {
    for (const entry of await this.entries(dir)) {
      if (!entry.name.startsWith(namePrefix)) continue;
      const key = `${keyPrefix}${entry.name}`;
      const path = join(dir, entry.name);
      if (entry.isDir) {
        yield* this.walk(path, `${key}/`, '');
        continue;
      }
      let st;
      try {
        st = await stat(path);
      } catch (err) {
        if (errno(err) === 'ENOENT') continue; // deleted while listing
        throw err;
      }
      yield { key, size: st.size, lastModified: st.mtime };
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectSummary> {
    assertValidPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const folderPrefix = prefix.slice(0, slash + 1);
    const namePrefix = prefix.slice(slash + 1);
    yield* this.walk(this.paths.folder(folderPrefix), folderPrefix, namePrefix);
  }

  async *listFolders(prefix: string): AsyncIterable<string> {
    assertValidFolder(prefix);
    for (const entry of await this.entries(this.paths.folder(prefix))) {
      if (!entry.isDir) continue;
      const folder = `${prefix}${entry.name}/`;
      // A folder left empty by a crash is not a "common prefix": only report it if it holds an object.
      for await (const _ of this.list(folder)) {
        yield folder;
        break;
      }
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.paths.object(key);
    const metaPath = this.paths.meta(key);
    const st = await lstat(path).catch(() => undefined);
    if (st?.isFile() !== true) return;
    try {
      await unlinkIfExists(path);
      await fsyncDir(dirname(path));
      await unlinkIfExists(metaPath);
    } catch (err) {
      throw new ObjectStoreBackendError(this.description, 'delete', key, err);
    }
    await removeEmptyParents(dirname(path), this.paths.root);
    await removeEmptyParents(dirname(metaPath), join(this.paths.root, META_DIR));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
