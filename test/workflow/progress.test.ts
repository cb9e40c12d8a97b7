import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createProgressView, formatEvent } from '../../src/cli/progress.ts';
import type { Store } from '../../src/store/index.ts';
import { WorkflowRunner, defineWorkflow } from '../../src/workflow/index.ts';
import { tempStore } from './helpers.ts';

/** A stream that keeps what is written to it (80 columns, like a terminal). */
function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  Object.assign(w, { columns: 80, rows: 24, isTTY: false });
  return { stream: w as unknown as NodeJS.WriteStream, text: () => text };
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');

describe('workflow progress view', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let runner: WorkflowRunner;
  let flakes = 0;
  before(async () => {
    ({ store, cleanup } = await tempStore());
    runner = new WorkflowRunner({
      store,
      workflows: [
        defineWorkflow({
          name: 'deploy',
          steps: [
            {
              name: 'fetch',
              run: (ctx) => {
                ctx.progress('downloading', 0.5);
                return null;
              },
            },
            {
              name: 'apply',
              retry: { initialIntervalMs: 10 },
              run: () => {
                flakes += 1;
                if (flakes === 1) throw new Error('conflict');
                return 'applied';
              },
            },
            { name: 'verify', run: () => 'ok' },
          ],
        }),
        defineWorkflow({
          name: 'broken',
          steps: [
            { name: 'first', run: () => 1 },
            { name: 'boom', retry: { maximumAttempts: 1 }, run: () => Promise.reject(new Error('kaput')) },
            { name: 'last', run: () => 3 },
          ],
        }),
      ],
    });
  });
  after(async () => {
    await runner.stop();
    await cleanup();
  });

  it('prints one plain line per event when not on a TTY', async () => {
    flakes = 0;
    const out = capture();
    const view = createProgressView({ stream: out.stream });
    const unsubscribe = runner.subscribe(view.listener);
    const run = await runner.execute('deploy', null, { timeoutMs: 10_000 });
    await view.done();
    unsubscribe();
    const lines = out
      .text()
      .trimEnd()
      .split('\n')
      .map((l) => l.slice(13));
    assert.deepEqual(lines, [
      `run ${run.id} started (deploy, 3 steps)`,
      `run ${run.id} step fetch started (attempt 1)`,
      `run ${run.id} step fetch 50% downloading`,
      `run ${run.id} step fetch completed (attempt 1)`,
      `run ${run.id} step apply started (attempt 1)`,
      `run ${run.id} step apply failed (attempt 1): conflict; retrying in 10 ms`,
      `run ${run.id} step apply started (attempt 2)`,
      `run ${run.id} step apply completed (attempt 2)`,
      `run ${run.id} step verify started (attempt 1)`,
      `run ${run.id} step verify completed (attempt 1)`,
      `run ${run.id} succeeded`,
    ]);
    assert.match(out.text(), /^\d\d:\d\d:\d\d\.\d{3} run /);
  });

  it('renders a listr2 task list on a TTY', async () => {
    flakes = 0;
    const out = capture();
    const view = createProgressView({ stream: out.stream, tty: true });
    const unsubscribe = runner.subscribe(view.listener);
    await runner.execute('deploy', null, { timeoutMs: 10_000 });
    await view.done();
    unsubscribe();
    const text = stripAnsi(out.text());
    for (const step of ['fetch', 'apply (attempt 2)', 'verify'])
      assert.ok(text.includes(`✔ ${step}`), `${step} in:\n${text}`);
  });

  it('shows a failed step and the steps that never ran', async () => {
    const out = capture();
    const view = createProgressView({ stream: out.stream, tty: true });
    const unsubscribe = runner.subscribe(view.listener);
    const run = await runner.execute('broken', null, { timeoutMs: 10_000 });
    await view.done();
    unsubscribe();
    assert.equal(run.status, 'failed');
    const text = stripAnsi(out.text());
    assert.ok(text.includes('✔ first'), text);
    assert.match(text, /✖ boom\n\s+› kaput/);
    assert.match(text, /last \(not run: failed: kaput\)/);
  });

  it('formats every event type without throwing', () => {
    const at = Date.UTC(2026, 0, 1, 12, 0, 0);
    assert.equal(
      formatEvent({
        type: 'step.waiting-approval',
        runId: 'r1',
        workflow: 'w',
        at,
        step: 's',
        expiresAt: at + 60_000,
      }),
      '12:00:00.000 run r1 step s waiting for approval until 2026-01-01T12:01:00.000Z (lifeline runs approve r1 --step s)',
    );
    assert.equal(
      formatEvent({ type: 'approval.denied', runId: 'r1', workflow: 'w', at, step: 's', by: 'bob' }),
      '12:00:00.000 run r1 step s denied by bob',
    );
  });
});
