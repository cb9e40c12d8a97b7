import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { LifelineError } from '../../core/errors.ts';
import { isNotFound, layout, type ObjectStore } from '../../objectstore/index.ts';
import { RECOMMENDED_DETECTOR } from './registry.ts';

/**
 * Where per-series models are kept between runs: JSON values by key. Keys are free text (a
 * query name and a series label set); implementations map them to safe names.
 */
export interface ModelStateStore {
  /** The value stored under `key`, or undefined. */
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
}

/** A safe, fixed-length name for a free-text key. */
function fileName(key: string): string {
  return `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`;
}

/** Model states as JSON files in one directory; writes are atomic (temp file, then rename). */
export class FileModelStateStore implements ModelStateStore {
  constructor(readonly dir: string) {}

  async get(key: string): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(join(this.dir, fileName(key)), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as { key?: string; value?: unknown };
      return parsed.key === key ? parsed.value : undefined;
    } catch (err) {
      throw new LifelineError('anomaly.state', `saved model state is not valid JSON`, {
        where: join(this.dir, fileName(key)),
        fix: 'delete the file; the series model starts fresh',
        cause: err,
      });
    }
  }

  async put(key: string, value: unknown): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, fileName(key));
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ key, value }));
    await rename(tmp, path);
  }
}

/**
 * Model states in an {@link ObjectStore}, at the layout's `models/<detector>/<hash>.json`
 * ({@link layout.anomalyModelHashed}); the free-text key is stored inside the object and checked
 * on read. `detector` names the folder: default `lifeline`, the recommended detector.
 */
export class ObjectStoreModelStateStore implements ModelStateStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly detector = RECOMMENDED_DETECTOR,
  ) {}

  /** Object key of a model state. */
  objectKey(key: string): string {
    return layout.anomalyModelHashed(this.detector, key);
  }

  async get(key: string): Promise<unknown> {
    try {
      const { body } = await this.store.get(this.objectKey(key));
      const parsed = JSON.parse((await buffer(body)).toString('utf8')) as { key?: string; value?: unknown };
      return parsed.key === key ? parsed.value : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.store.put(this.objectKey(key), Buffer.from(JSON.stringify({ key, value })));
  }
}
