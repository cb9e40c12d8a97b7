import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../support/cli.ts';

const dir = await mkdtemp(join(tmpdir(), 'lifeline-demo-'));
after(() => rm(dir, { recursive: true, force: true }));

describe('lifeline demo', () => {
  it('brings up primary, standby, moto, the shop app (available) and the server, then stops cleanly', async () => {
    const r = await runCli(
      ['demo', '--port', '0', '--nodes', '2', '--dir', dir, '--exit-when-ready', '-o', 'json'],
      {
        timeoutMs: 180_000,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as {
      server: string;
      primary: { server: string };
      standby: { server: string };
      s3: { endpoint: string; bucket: string };
      app: { namespace: string; objects: number };
    };
    assert.match(info.server, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(info.primary.server, info.standby.server);
    assert.match(info.s3.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(info.app.namespace, 'shop');
    assert.equal(info.app.objects, 13);
    assert.match(r.stderr, /waiting for the shop Deployments to be available/);
  });
});
