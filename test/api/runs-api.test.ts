import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startLifelineServer } from '../../src/api/bootstrap.ts';
import { createLogger, parseConfig } from '../../src/core/index.ts';
import { defineWorkflow, WorkflowRunner } from '../../src/workflow/index.ts';

const dir = await mkdtemp(join(tmpdir(), 'lifeline-api-'));
const config = parseConfig(
  {
    server: { port: 0, apiTokenFile: join(dir, 'api-token') },
    store: { driver: 'sqlite', path: join(dir, 'l.db') },
    objectStore: { driver: 'fs', root: join(dir, 'objects') },
  },
  '<test>',
);
const running = await startLifelineServer(config, createLogger({ level: 'silent' }));
after(async () => {
  await running.close();
  await rm(dir, { recursive: true, force: true });
});
const token = (await readFile(join(dir, 'api-token'), 'utf8')).trim();
const url = running.server.url;
const auth = { authorization: `Bearer ${token}` };

describe('REST API /api/v1/runs', () => {
  it('generates a 0600 token file and refuses requests without the token', async () => {
    assert.equal((await stat(join(dir, 'api-token'))).mode & 0o777, 0o600);
    assert.equal(token.length, 64);
    const none = await fetch(`${url}/api/v1/runs`);
    assert.equal(none.status, 401);
    assert.match(((await none.json()) as { fix: string }).fix, /Bearer/);
    const wrong = await fetch(`${url}/api/v1/runs`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'health stays open');
  });

  it('lists runs ([] when empty) and rejects a bad filter with what/where/fix', async () => {
    const list = await fetch(`${url}/api/v1/runs`, { headers: auth });
    assert.equal(list.status, 200);
    assert.deepEqual(await list.json(), []);
    const bad = await fetch(`${url}/api/v1/runs?status=bogus`, { headers: auth });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { where: string; fix: string };
    assert.equal(body.where, 'query.status');
    assert.match(body.fix, /status=pending\|running/);
  });

  it('approves a waiting gate through the API, and the run completes', async () => {
    const runner = new WorkflowRunner({
      store: running.store,
      approvalPollMs: 50,
      workflows: [
        defineWorkflow({
          name: 'gated',
          steps: [
            { name: 'prepare', run: () => ({ ok: true }) },
            {
              name: 'teardown',
              approval: { ttlMs: 60_000, summary: 'tear down the primary' },
              run: () => 'done',
            },
          ],
        }),
      ],
    });
    try {
      const run = await runner.submit('gated', {});
      // Wait until the gate is open.
      for (let i = 0; i < 100; i++) {
        const d = (await (await fetch(`${url}/api/v1/runs/${run.id}`, { headers: auth })).json()) as {
          approvals: { step: string; status: string }[];
        };
        if (d.approvals.some((a) => a.step === 'teardown' && a.status === 'pending')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const badBody = await fetch(`${url}/api/v1/runs/${run.id}/approvals/teardown`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'yes', by: 'ops' }),
      });
      assert.equal(badBody.status, 400);
      const ok = await fetch(`${url}/api/v1/runs/${run.id}/approvals/teardown`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'approve', by: 'ops', reason: 'drill window' }),
      });
      assert.equal(ok.status, 200, await ok.clone().text());
      assert.equal(((await ok.json()) as { status: string }).status, 'approved');
      const again = await fetch(`${url}/api/v1/runs/${run.id}/approvals/teardown`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'deny', by: 'ops' }),
      });
      assert.equal(again.status, 409);
      const done = await runner.wait(run.id, { timeoutMs: 10_000 });
      assert.equal(done.status, 'succeeded');
      const missing = await fetch(`${url}/api/v1/runs/run-does-not-exist`, { headers: auth });
      assert.equal(missing.status, 404);
    } finally {
      await runner.stop();
    }
  });
});
