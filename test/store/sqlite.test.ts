import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/index.ts';
import { storeConformance } from './conformance.ts';

storeConformance('sqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-store-'));
  const path = join(dir, 'nested', 'lifeline.db');
  return Promise.resolve({
    open: (clock) => openSqliteStore({ path, clock }),
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  });
});
