import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { waitFor } from '../../src/core/clock.ts';
import { openSqliteStore, type RunRecord, type Store } from '../../src/store/index.ts';
import { WorkflowRunner, defineWorkflow, type RunDescription } from '../../src/workflow/index.ts';
import { cliEntry, runCli, type CliResult } from '../support/cli.ts';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';

const TSX = import.meta.resolve('tsx');

/** Runs the CLI with another working directory (the default store is relative to it). */
function runCliIn(cwd: string, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, cliEntry, ...args],
      { cwd, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
      },
    );
  });
}

describe('lifeline runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-runs-cli-'));
  const dbPath = join(dir, 'state', 'lifeline.db');
  let store: Store;
  let runner: WorkflowRunner;
  let pg: TestPostgres | undefined;
  let gatedA: RunRecord;
  let gatedB: RunRecord;
  let done: RunRecord;

  before(async () => {
    store = await openSqliteStore({ path: dbPath });
    runner = new WorkflowRunner({
      store,
      approvalPollMs: 50,
      workflows: [
        defineWorkflow({
          name: 'release',
          steps: [
            { name: 'build', run: () => 'built' },
            { name: 'ship', approval: { ttlMs: 120_000, summary: 'ship it?' }, run: () => 'shipped' },
          ],
        }),
        defineWorkflow({ name: 'noop', steps: [{ name: 'only', run: () => 42 }] }),
      ],
    });
    done = await runner.execute('noop', null, { timeoutMs: 10_000 });
    gatedA = await runner.submit('release', { version: '1.2.3' });
    gatedB = await runner.submit('release', { version: '1.2.4' });
    for (const run of [gatedA, gatedB]) {
      await waitFor('the approval gate', async () =>
        (await store.getApproval(run.id, 'ship'))?.status === 'pending' ? true : undefined,
      );
    }
  });
  after(async () => {
    await runner.stop();
    await store.close();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints [] for a fresh default store (.lifeline/lifeline.db in the working directory)', async () => {
    const cwd = mkdtempSync(join(dir, 'fresh-'));
    const r = await runCliIn(cwd, ['runs', 'list', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
    assert.ok(existsSync(join(cwd, '.lifeline', 'lifeline.db')));
    const table = await runCliIn(cwd, ['runs', 'list']);
    assert.equal(table.stdout.trim(), 'no runs');
  });

  it('lists runs as json, yaml and a table, with filters', async () => {
    const json = await runCli(['runs', 'list', '--store', dbPath, '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const runs = JSON.parse(json.stdout) as RunRecord[];
    assert.deepEqual(runs.map((r) => r.id).sort(), [done.id, gatedA.id, gatedB.id].sort());
    assert.equal(runs.find((r) => r.id === done.id)?.status, 'succeeded');
    const yaml = await runCli(['runs', 'list', '--store', dbPath, '-o', 'yaml', '--status', 'running']);
    assert.deepEqual(
      (parseYaml(yaml.stdout) as RunRecord[]).map((r) => r.id).sort(),
      [gatedA.id, gatedB.id].sort(),
    );
    const table = await runCli(['runs', 'list', '--store', dbPath, '--workflow', 'noop']);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^ID\s+WORKFLOW\s+STATUS\s+CREATED\s+FINISHED\s+ERROR$/);
    assert.equal(lines.length, 2);
    assert.match(lines[1] ?? '', new RegExp(`^${done.id}\\s+noop\\s+succeeded`));
    const bad = await runCli(['runs', 'list', '--store', dbPath, '--status', 'sleeping']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--status must be one of/);
  });

  it('describes a run with its steps, gate and event log', async () => {
    const json = await runCli(['runs', 'describe', gatedA.id, '--store', dbPath, '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const d = JSON.parse(json.stdout) as RunDescription;
    assert.equal(d.run.id, gatedA.id);
    assert.deepEqual(
      d.steps.map((s) => [s.name, s.status]),
      [
        ['build', 'succeeded'],
        ['ship', 'waiting-approval'],
      ],
    );
    assert.deepEqual(
      d.approvals.map((a) => [a.step, a.status, a.summary]),
      [['ship', 'pending', 'ship it?']],
    );
    assert.deepEqual(
      d.events.map((e) => e.type),
      ['run.started', 'step.started', 'step.completed', 'step.waiting-approval'],
    );
    const text = await runCli(['runs', 'describe', gatedA.id, '--store', dbPath]);
    assert.match(text.stdout, /Status:\s+running/);
    assert.match(text.stdout, /ship\s+waiting-approval/);
    assert.match(text.stdout, /Events \(4\):/);
    assert.match(
      text.stdout,
      new RegExp(`waiting for approval until .* \\(lifeline runs approve ${gatedA.id} --step ship\\)`),
    );
    const missing = await runCli(['runs', 'describe', 'run-nope', '--store', dbPath]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error: run run-nope does not exist\n\s+where: sqlite store\n\s+fix:/);
  });

  it('approve lets the waiting run finish; deny fails the other; a second decision is refused', async () => {
    const approve = await runCli([
      'runs',
      'approve',
      gatedA.id,
      '--step',
      'ship',
      '--by',
      'alice',
      '--store',
      dbPath,
    ]);
    assert.equal(approve.code, 0, approve.stderr);
    assert.equal(approve.stdout.trim(), `approved step ship of run ${gatedA.id} (by alice)`);
    const deny = await runCli([
      'runs',
      'deny',
      gatedB.id,
      '--step',
      'ship',
      '--by',
      'bob',
      '--reason',
      'freeze',
      '--store',
      dbPath,
      '-o',
      'json',
    ]);
    assert.equal(deny.code, 0, deny.stderr);
    assert.equal((JSON.parse(deny.stdout) as { status: string }).status, 'denied');
    const a = await runner.wait(gatedA.id, { timeoutMs: 10_000 });
    const b = await runner.wait(gatedB.id, { timeoutMs: 10_000 });
    assert.equal(a.status, 'succeeded');
    assert.equal(a.output, 'shipped');
    assert.equal(b.status, 'failed');
    assert.match(b.error?.message ?? '', /denied by bob: freeze/);
    const again = await runCli(['runs', 'approve', gatedB.id, '--step', 'ship', '--store', dbPath]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already denied by bob/);
    const noGate = await runCli(['runs', 'approve', gatedA.id, '--step', 'build', '--store', dbPath]);
    assert.equal(noGate.code, 1);
    assert.match(noGate.stderr, /has no approval gate open/);
  });

  it('takes the store from --config', async () => {
    const config = join(dir, 'lifeline.yaml');
    writeFileSync(config, `store:\n  driver: sqlite\n  path: ${dbPath}\n`);
    const r = await runCli(['runs', 'list', '--config', config, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as unknown[]).length, 3);
  });

  it('reads a PostgreSQL store given as a URL', async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase('runs_cli');
    const r = await runCli(['runs', 'list', '--store', url, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
    const bad = await runCli([
      'runs',
      'list',
      '--store',
      `postgres://lifeline:secret@127.0.0.1:${pg.port}/nope`,
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /where: postgres:\/\/lifeline:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(bad.stderr, /secret/);
  });
});
