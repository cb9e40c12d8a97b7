import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type Store } from '../../src/store/index.ts';
import type { WorkflowEvent, WorkflowRunner } from '../../src/workflow/index.ts';

/** A fresh SQLite store in a temp dir; `cleanup` closes it and removes the dir. */
export async function tempStore(): Promise<{ store: Store; path: string; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-wf-'));
  const path = join(dir, 'lifeline.db');
  const store = await openSqliteStore({ path });
  return {
    store,
    path,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Collects the events a runner emits. */
export function record(runner: WorkflowRunner): WorkflowEvent[] {
  const events: WorkflowEvent[] = [];
  runner.subscribe((e) => events.push(e));
  return events;
}

/** `type:step` of each event, for compact assertions. */
export function summary(events: readonly WorkflowEvent[], types?: readonly string[]): string[] {
  return events
    .filter((e) => types === undefined || types.includes(e.type))
    .map((e) => (e.step === undefined ? e.type : `${e.type}:${e.step}`));
}
