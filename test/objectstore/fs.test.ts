import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { openObjectStore } from '../../src/objectstore/index.ts';
import { objectStoreConformance } from './conformance.ts';

const base = await mkdtemp(join(tmpdir(), 'lifeline-fs-conformance-'));
after(() => rm(base, { recursive: true, force: true }));
let n = 0;

objectStoreConformance({
  name: 'fs',
  open: () => openObjectStore({ driver: 'fs', root: join(base, `store-${++n}`) }),
  large: true,
  manyKeys: true,
});
