import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it, type TestContext } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { openStore, runStream, storeConfigFromArg, type Store } from '../../src/store/index.ts';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const WORKER = new URL('./fixtures/crash-worker.ts', import.meta.url).pathname;
const MIN_KILLS = Number(process.env['LIFELINE_CRASH_KILLS'] ?? 30);
/** The PostgreSQL campaign is shorter: the same code path, a second engine. */
const PG_KILLS = Number(process.env['LIFELINE_CRASH_PG_KILLS'] ?? 10);
const SEED = Number(process.env['LIFELINE_CRASH_SEED'] ?? 20261125);
const BUDGET_MS = 150_000;
/**
 * A whole run takes ~1 s of steps; each kill lands uniformly in the first 0.6 s after the
 * worker (re)starts driving, so a run typically dies a few times before it completes.
 */
const MAX_KILL_DELAY_MS = 600;

/** Deterministic PRNG (mulberry32), so a failing schedule can be replayed with the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Cycle {
  killed: boolean;
  delayMs: number;
  /** The last event the worker printed before it was killed (where the kill landed). */
  lastEvent: string;
}

/** Starts a worker; resolves `driving` when it reports the run started/resumed. */
function startWorker(storePath: string, effectsPath: string, runId: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, storePath, effectsPath, runId], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let lastEvent = '(none)';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  const driving = new Promise<void>((resolve) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const e = JSON.parse(line) as { type: string; step?: string };
      lastEvent = e.step === undefined ? e.type : `${e.type}:${e.step}`;
      if (e.type === 'run.started' || e.type === 'run.resumed') resolve();
    });
    void exited.then(() => {
      resolve();
    });
  });
  return { child, exited, driving, lastEvent: () => lastEvent, stderr: () => stderr };
}

/**
 * Runs 10-step runs in worker processes against `storeArg`, SIGKILLs them at seeded random
 * points until `minKills` kills landed mid-run, resumes each run to completion, then checks
 * the store, the event log and the side-effect table.
 */
async function crashCampaign(
  t: TestContext,
  label: string,
  storeArg: string,
  effectsPath: string,
  minKills: number,
  seed: number,
  live: Set<ChildProcess>,
): Promise<void> {
  const random = prng(seed);
  const started = Date.now();
  const cycles: Cycle[] = [];
  const completedRuns: string[] = [];
  let runIndex = 0;
  let runId = `crash-${seed}-${runIndex}`;
  let kills = 0;
  while (kills < minKills) {
    assert.ok(Date.now() - started < BUDGET_MS, `time budget exceeded after ${kills} kills`);
    const worker = startWorker(storeArg, effectsPath, runId);
    live.add(worker.child);
    await worker.driving;
    const delayMs = Math.round(random() * MAX_KILL_DELAY_MS);
    const outcome = await Promise.race([
      worker.exited.then((e) => ({ exited: e })),
      new Promise<undefined>((resolve) =>
        setTimeout(() => {
          resolve(undefined);
        }, delayMs),
      ),
    ]);
    const exit = outcome?.exited ?? (worker.child.kill('SIGKILL'), await worker.exited);
    const finished = ['run.succeeded', 'done'].includes(worker.lastEvent());
    if (exit.signal === 'SIGKILL' && !finished) {
      kills += 1;
      cycles.push({ killed: true, delayMs, lastEvent: worker.lastEvent() });
    } else {
      // Finished before the kill landed (or the kill hit a worker already shutting down).
      assert.ok(exit.code === 0 || finished, `worker failed: ${worker.stderr()}`);
      cycles.push({ killed: false, delayMs, lastEvent: worker.lastEvent() });
      completedRuns.push(runId);
      runIndex += 1;
      runId = `crash-${seed}-${runIndex}`;
    }
    live.delete(worker.child);
  }
  // Finish the run that was in progress when the kill quota was reached.
  if (!completedRuns.includes(runId) && cycles.length > 0) {
    const worker = startWorker(storeArg, effectsPath, runId);
    live.add(worker.child);
    const e = await worker.exited;
    live.delete(worker.child);
    assert.equal(e.code, 0, `final worker failed: ${worker.stderr()}`);
    completedRuns.push(runId);
  }

  const store: Store = await openStore(storeConfigFromArg(storeArg));
  const effects = new BetterSqlite3(effectsPath, { readonly: true });
  let reExecutions = 0;
  let effectBeforeMemo = 0;
  let totalStarted = 0;
  try {
    for (const id of completedRuns) {
      const run = await store.getRun(id);
      assert.equal(run?.status, 'succeeded', `run ${id}`);
      const steps = await store.listSteps(id);
      assert.equal(steps.length, 10);
      const events = await store.read(runStream(id), { limit: 100_000 });
      const effectRows = effects.prepare('select step, attempt from effects where run_id = ?').all(id) as {
        step: string;
        attempt: number;
      }[];
      const execRows = effects
        .prepare('select step, attempt from executions where run_id = ? order by id')
        .all(id) as {
        step: string;
        attempt: number;
      }[];
      assert.equal(effectRows.length, 10, `run ${id}: one side effect per step`);
      for (const step of steps) {
        assert.equal(step.status, 'succeeded');
        const started = events
          .filter((e) => e.type === 'step.started' && (e.data as { step: string }).step === step.name)
          .map((e) => (e.data as { attempt: number }).attempt);
        const completed = events.filter(
          (e) => e.type === 'step.completed' && (e.data as { step: string }).step === step.name,
        );
        const executed = execRows.filter((r) => r.step === step.name).map((r) => r.attempt);
        const effect = effectRows.filter((r) => r.step === step.name);
        totalStarted += started.length;
        // The event log shows every attempt, numbered 1..n, and the step's attempts counter agrees.
        assert.deepEqual(
          started,
          Array.from({ length: started.length }, (_, i) => i + 1),
          `${id}/${step.name} attempts`,
        );
        assert.equal(step.attempts, started.length, `${id}/${step.name} attempts counter`);
        // Every execution of the step body has its step.started event.
        for (const attempt of executed)
          assert.ok(started.includes(attempt), `${id}/${step.name} attempt ${attempt} logged`);
        // Completed once, by the last attempt; memoized afterwards (never executed again).
        assert.equal(completed.length, 1, `${id}/${step.name} completed once`);
        const lastAttempt = started[started.length - 1];
        assert.deepEqual(completed[0]?.data, { step: step.name, attempt: lastAttempt });
        assert.ok(
          executed.every((a) => a <= (lastAttempt ?? 0)),
          `${id}/${step.name} not executed after completion`,
        );
        assert.deepEqual(step.output, { step: step.index, attempt: lastAttempt });
        // Exactly one side effect, made by one of the logged executions.
        assert.equal(effect.length, 1);
        assert.ok(executed.includes(effect[0]?.attempt ?? -1));
        reExecutions += executed.length - 1;
        if ((effect[0]?.attempt ?? 0) < (lastAttempt ?? 0)) effectBeforeMemo += 1;
      }
      const resumes = events.filter((e) => e.type === 'run.resumed').length;
      const starts = events.filter((e) => e.type === 'run.started').length;
      assert.equal(starts, 1, `${id}: started once`);
      assert.equal(events.filter((e) => e.type === 'run.succeeded').length, 1);
      assert.ok(resumes >= 0);
    }
  } finally {
    effects.close();
    await store.close();
  }
  const wallMs = Date.now() - started;
  const landed = new Map<string, number>();
  for (const c of cycles.filter((c) => c.killed)) {
    const kind = c.lastEvent.split(':')[0] ?? c.lastEvent;
    landed.set(kind, (landed.get(kind) ?? 0) + 1);
  }
  t.diagnostic(
    `${label}, seed ${seed}: ${kills} SIGKILLs over ${completedRuns.length} runs in ${(wallMs / 1000).toFixed(1)} s; ` +
      `${totalStarted} step attempts logged, ${reExecutions} step re-executions, ` +
      `${effectBeforeMemo} kills between a side effect and its memo (effect not repeated); ` +
      `last event before kill: ${[...landed].map(([k, v]) => `${k}=${v}`).join(', ')}`,
  );
  assert.ok(kills >= minKills);
  assert.ok(completedRuns.length >= 1);
}

describe('workflow crash test (SIGKILL at random points)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-crash-'));
  const live = new Set<ChildProcess>();
  let pg: TestPostgres | undefined;
  after(async () => {
    for (const c of live) c.kill('SIGKILL');
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`SQLite: resumes 10-step runs to completion through >= ${MIN_KILLS} kills; each side effect happens once`, async (t) => {
    await crashCampaign(
      t,
      'sqlite',
      join(dir, 'lifeline.db'),
      join(dir, 'effects-sqlite.db'),
      MIN_KILLS,
      SEED,
      live,
    );
  });

  it(`PostgreSQL: the same through >= ${PG_KILLS} kills`, async (t) => {
    pg = await startPostgres();
    const url = await pg.createDatabase('crash');
    await crashCampaign(t, 'postgres', url, join(dir, 'effects-pg.db'), PG_KILLS, SEED + 1, live);
  });
});
