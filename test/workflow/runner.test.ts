import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { sleep, waitFor } from '../../src/core/clock.ts';
import { LifelineError } from '../../src/core/errors.ts';
import { runStream, type JsonValue, type Store } from '../../src/store/index.ts';
import {
  NonRetryableError,
  WorkflowRunner,
  decideApproval,
  defineWorkflow,
  describeRun,
  type StepDefinition,
  type WorkflowDefinition,
} from '../../src/workflow/index.ts';
import { record, summary, tempStore } from './helpers.ts';

const fast = { initialIntervalMs: 10, backoffCoefficient: 2, maximumAttempts: 3 };

describe('workflow runner', () => {
  let store: Store;
  let path: string;
  let cleanup: () => Promise<void>;
  const runners: WorkflowRunner[] = [];
  const runner = (
    workflows: WorkflowDefinition[],
    extra: { leaseMs?: number; renewEveryMs?: number } = {},
  ) => {
    const r = new WorkflowRunner({
      store,
      workflows,
      leaseMs: 2000,
      resumeEveryMs: 50,
      approvalPollMs: 20,
      ...extra,
    });
    runners.push(r);
    return r;
  };

  before(async () => {
    ({ store, path, cleanup } = await tempStore());
  });
  after(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await cleanup();
  });

  it('runs steps in order, passes results along, reports progress and persists the event log', async () => {
    const wf = defineWorkflow<{ n: number }>({
      name: 'sum',
      steps: [
        { name: 'double', run: (ctx) => ctx.input.n * 2 },
        {
          name: 'add',
          run: (ctx) => {
            ctx.progress('adding', 0.5);
            return { total: (ctx.results['double'] as number) + 1, key: ctx.idempotencyKey };
          },
        },
      ],
    });
    const r = runner([wf]);
    const events = record(r);
    const run = await r.execute('sum', { n: 20 }, { timeoutMs: 10_000 });
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.output, { total: 41, key: `${run.id}/add` });
    assert.deepEqual(summary(events), [
      'run.started',
      'step.started:double',
      'step.completed:double',
      'step.started:add',
      'step.progress:add',
      'step.completed:add',
      'run.succeeded',
    ]);
    assert.equal(events.find((e) => e.type === 'step.progress')?.fraction, 0.5);
    const described = await describeRun(store, run.id);
    assert.deepEqual(
      summary(described.events),
      summary(events).filter((t) => !t.startsWith('step.progress')),
      'every event but progress is in the log',
    );
    assert.deepEqual(
      described.steps.map((s) => [s.name, s.status, s.attempts, s.output]),
      [
        ['double', 'succeeded', 1, 40],
        ['add', 'succeeded', 1, { total: 41, key: `${run.id}/add` }],
      ],
    );
    assert.equal(run.leaseExpiresAt, null, 'the lease is released at the end');
  });

  it('retries with backoff, then compensates completed steps in reverse order', async () => {
    const undone: string[] = [];
    let flaky = 0;
    const step = (name: string): StepDefinition => ({
      name,
      run: () => name,
      compensate: (ctx) => {
        assert.equal(ctx.output, name);
        undone.push(name);
      },
    });
    const wf = defineWorkflow({
      name: 'saga',
      steps: [
        step('a'),
        step('b'),
        {
          name: 'flaky',
          retry: fast,
          run: () => {
            flaky += 1;
            if (flaky < 3) throw new Error(`flake ${flaky}`);
            return 'ok';
          },
        },
        {
          name: 'broken',
          retry: { ...fast, maximumAttempts: 2 },
          run: () => Promise.reject(new Error('always')),
        },
        step('never'),
      ],
    });
    const r = runner([wf]);
    const events = record(r);
    const run = await r.execute('saga', null, { timeoutMs: 10_000 });
    assert.equal(run.status, 'failed');
    assert.deepEqual(run.error, { name: 'Error', message: 'always', step: 'broken' });
    assert.deepEqual(undone, ['b', 'a']);
    const failed = events.filter((e) => e.type === 'step.failed');
    assert.deepEqual(
      failed.map((e) => [e.step, e.attempt, e.retryInMs]),
      [
        ['flaky', 1, 10],
        ['flaky', 2, 20],
        ['broken', 1, 10],
        ['broken', 2, undefined],
      ],
    );
    const steps = await store.listSteps(run.id);
    assert.deepEqual(
      steps.map((s) => [s.name, s.status, s.attempts, s.failures]),
      [
        ['a', 'compensated', 1, 0],
        ['b', 'compensated', 1, 0],
        ['flaky', 'succeeded', 3, 2],
        ['broken', 'failed', 2, 2],
        ['never', 'pending', 0, 0],
      ],
    );
    assert.deepEqual(summary(events, ['compensation.started', 'step.compensated', 'run.failed']), [
      'compensation.started',
      'step.compensated:b',
      'step.compensated:a',
      'run.failed',
    ]);
  });

  it('fails a step that exceeds its timeout and does not retry non-retryable errors', async () => {
    let calls = 0;
    const wf = defineWorkflow({
      name: 'slow',
      steps: [
        {
          name: 'hang',
          timeoutMs: 50,
          retry: { ...fast, maximumAttempts: 2 },
          run: () => new Promise(() => undefined),
        },
      ],
    });
    const fatal = defineWorkflow({
      name: 'fatal',
      steps: [
        {
          name: 'once',
          retry: { ...fast, maximumAttempts: 5 },
          run: () => {
            calls += 1;
            throw new NonRetryableError('bad input');
          },
        },
      ],
    });
    const r = runner([wf, fatal]);
    const slow = await r.execute('slow', null, { timeoutMs: 10_000 });
    assert.equal(slow.status, 'failed');
    assert.equal(slow.error?.code, 'workflow.step-timeout');
    assert.equal((await store.listSteps(slow.id))[0]?.attempts, 2);
    const once = await r.execute('fatal', null, { timeoutMs: 10_000 });
    assert.equal(once.status, 'failed');
    assert.equal(calls, 1);
    assert.equal(once.error?.name, 'NonRetryableError');
  });

  it('waits at an approval gate: approve continues, deny fails and compensates, expiry fails', async () => {
    const ran: string[] = [];
    const wf = defineWorkflow({
      name: 'gated',
      steps: [
        { name: 'prepare', run: () => ran.push('prepare'), compensate: () => void ran.push('undo-prepare') },
        {
          name: 'apply',
          approval: { ttlMs: 5000, summary: 'apply the change?' },
          run: () => ran.push('apply'),
        },
      ],
    });
    const short = defineWorkflow({
      name: 'gated-short',
      steps: [{ name: 'apply', approval: { ttlMs: 100 }, run: () => ran.push('short') }],
    });
    const r = runner([wf, short]);
    const events = record(r);

    const first = await r.submit('gated', null);
    await waitFor('the gate', async () =>
      (await store.getApproval(first.id, 'apply'))?.status === 'pending' ? true : undefined,
    );
    assert.equal((await store.listSteps(first.id))[1]?.status, 'waiting-approval');
    assert.deepEqual(ran, ['prepare'], 'the gated step has not run');
    await decideApproval(store, { runId: first.id, step: 'apply', decision: 'approved', by: 'alice' });
    assert.equal((await r.wait(first.id, { timeoutMs: 10_000 })).status, 'succeeded');
    assert.deepEqual(ran, ['prepare', 'apply']);
    await assert.rejects(
      decideApproval(store, { runId: first.id, step: 'apply', decision: 'denied', by: 'bob' }),
      (err: unknown) => err instanceof LifelineError && err.code === 'runs.already-decided',
    );

    ran.length = 0;
    const second = await r.submit('gated', null);
    await waitFor('the gate', async () =>
      (await store.getApproval(second.id, 'apply'))?.status === 'pending' ? true : undefined,
    );
    await decideApproval(store, {
      runId: second.id,
      step: 'apply',
      decision: 'denied',
      by: 'bob',
      reason: 'not today',
    });
    const denied = await r.wait(second.id, { timeoutMs: 10_000 });
    assert.equal(denied.status, 'failed');
    assert.equal(denied.error?.code, 'workflow.approval-denied');
    assert.match(denied.error.message, /denied by bob: not today/);
    assert.deepEqual(ran, ['prepare', 'undo-prepare']);
    const log = (await describeRun(store, second.id)).events.map((e) => e.type);
    assert.ok(log.includes('approval.denied') && log.includes('step.waiting-approval'), log.join(','));

    const third = await r.execute('gated-short', null, { timeoutMs: 10_000 });
    assert.equal(third.status, 'failed');
    assert.equal(third.error?.code, 'workflow.approval-expired');
    await assert.rejects(
      decideApproval(store, { runId: third.id, step: 'apply', decision: 'approved', by: 'late' }),
      (err: unknown) => err instanceof LifelineError && err.code === 'runs.approval-expired',
    );
    await assert.rejects(
      decideApproval(store, { runId: third.id, step: 'nope', decision: 'approved', by: 'x' }),
      (err: unknown) => err instanceof LifelineError && err.code === 'runs.no-approval',
    );
    await assert.rejects(
      decideApproval(store, { runId: 'missing', step: 'apply', decision: 'approved', by: 'x' }),
      (err: unknown) => err instanceof LifelineError && err.code === 'runs.not-found',
    );
    assert.ok(events.some((e) => e.type === 'approval.approved' && e.by === 'alice'));
  });

  it('a stopped runner hands its run over; the next one skips memoized steps and finishes', async () => {
    const executed: string[] = [];
    let block = true;
    const make = (): WorkflowDefinition =>
      defineWorkflow({
        name: 'handover',
        steps: [
          { name: 'one', run: () => executed.push('one') },
          {
            name: 'two',
            run: async (_ctx, signal) => {
              executed.push('two');
              while (block) await sleep(10, signal);
              return 'two done';
            },
          },
          { name: 'three', run: () => executed.push('three') },
        ],
      });
    const first = runner([make()]);
    const run = await first.submit('handover', null);
    await waitFor('step two', () => (executed.includes('two') ? true : undefined));
    await first.stop();
    const afterStop = await store.getRun(run.id);
    assert.equal(afterStop?.status, 'running');
    assert.equal(afterStop.leaseExpiresAt, null, 'stop released the lease');
    block = false;
    const second = runner([make()]);
    const events = record(second);
    second.start();
    const done = await second.wait(run.id, { timeoutMs: 10_000 });
    assert.equal(done.status, 'succeeded');
    assert.deepEqual(executed, ['one', 'two', 'two', 'three']);
    assert.deepEqual(summary(events, ['run.resumed', 'step.skipped', 'step.started']), [
      'run.resumed',
      'step.skipped:one',
      'step.started:two',
      'step.started:three',
    ]);
    const log = (await describeRun(store, run.id)).events;
    assert.ok(log.some((e) => e.type === 'run.interrupted'));
    assert.deepEqual(
      log.filter((e) => e.type === 'step.started' && e.step === 'two').map((e) => e.attempt),
      [1, 2],
    );
  });

  it('on start, resumes runs whose lease expired (a crashed owner)', async () => {
    const wf = defineWorkflow({ name: 'orphan', steps: [{ name: 'only', run: () => 'resumed' }] });
    const { run } = await store.createRun({
      workflow: 'orphan',
      input: null,
      lease: { owner: 'dead-runner', ms: 200 },
    });
    const r = runner([wf]);
    r.start();
    const done = await r.wait(run.id, { timeoutMs: 10_000 });
    assert.equal(done.status, 'succeeded');
    assert.equal(done.leaseTicket, 2);
    assert.equal(done.leaseOwner, r.owner);
    assert.ok(done.updatedAt - run.createdAt >= 200, 'not before the lease expired');
  });

  it('aborts the step when the fencing ticket is taken, and writes nothing more', async () => {
    let aborted: unknown;
    const wf = defineWorkflow({
      name: 'fenced',
      steps: [
        {
          name: 'long',
          run: async (_ctx, signal) => {
            try {
              await sleep(30_000, signal);
            } catch (err) {
              aborted = err;
              throw err;
            }
            return 'too late';
          },
        },
      ],
    });
    const r = runner([wf], { leaseMs: 1000, renewEveryMs: 50 });
    const events = record(r);
    const run = await r.submit('fenced', null);
    await waitFor('the step to start', () =>
      events.some((e) => e.type === 'step.started') ? true : undefined,
    );
    // Another process takes the run over (as after a clock jump): its claim bumps the ticket.
    const raw = new BetterSqlite3(path);
    try {
      raw.pragma('busy_timeout = 5000');
      raw
        .prepare(
          'update workflow_runs set lease_ticket = lease_ticket + 1, lease_owner = ?, lease_expires_at = ? where id = ?',
        )
        .run('intruder', Date.now() + 60_000, run.id);
    } finally {
      raw.close();
    }
    await waitFor('the abort', () => (aborted === undefined ? undefined : true), {
      timeoutMs: 5000,
      intervalMs: 10,
    });
    assert.equal((aborted as Error).name, 'LeaseLostError');
    await waitFor('the drive to end', () => (r.activeRuns().includes(run.id) ? undefined : true));
    const steps = await store.listSteps(run.id);
    assert.equal(steps[0]?.status, 'running', 'the old holder recorded no failure');
    assert.equal((await store.getRun(run.id))?.leaseOwner, 'intruder');
    const log = await store.read(runStream(run.id));
    assert.deepEqual(
      log.map((e) => e.type),
      ['run.started', 'step.started', 'run.lease-lost'],
    );
    assert.ok(events.some((e) => e.type === 'run.lease-lost'));
  });

  it('derives steps from the input and rejects unknown workflows and bad definitions', async () => {
    const wf = defineWorkflow<{ count: number }>({
      name: 'dynamic',
      steps: (input) =>
        Array.from({ length: input.count }, (_, i): StepDefinition<{ count: number }> => ({
          name: `s${i}`,
          run: () => i,
        })),
      output: (results): JsonValue => Object.keys(results).length,
    });
    const r = runner([wf]);
    const run = await r.execute('dynamic', { count: 4 }, { timeoutMs: 10_000 });
    assert.equal(run.output, 4);
    assert.equal((await store.listSteps(run.id)).length, 4);
    await assert.rejects(
      r.submit('nope', null),
      (err: unknown) => err instanceof LifelineError && err.code === 'workflow.unknown',
    );
    assert.throws(
      () =>
        defineWorkflow({
          name: 'dup',
          steps: [
            { name: 'x', run: () => 1 },
            { name: 'x', run: () => 2 },
          ],
        }),
      (err: unknown) => err instanceof LifelineError && err.code === 'workflow.definition',
    );
    assert.throws(
      () => new WorkflowRunner({ store, workflows: [], leaseMs: 100, renewEveryMs: 100 }),
      (err: unknown) => err instanceof LifelineError && err.code === 'workflow.options',
    );
  });
});
