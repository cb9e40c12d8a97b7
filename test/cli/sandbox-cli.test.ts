import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { pidAlive } from '../../src/sandbox/process.ts';
import { runCli } from '../support/cli.ts';

const home = await mkdtemp(join(tmpdir(), 'lifeline-home-'));
const env = { LIFELINE_HOME: home };
after(async () => {
  await runCli(['sandbox', 'down', '--name', 'cli'], { env });
  await rm(home, { recursive: true, force: true });
});

describe('lifeline sandbox up|status|down', () => {
  it('up --detach -o json returns a ready cluster; down removes it and every process', async () => {
    const up = await runCli(['sandbox', 'up', '--name', 'cli', '--nodes', '2', '--detach', '-o', 'json'], {
      env,
    });
    assert.equal(up.code, 0, up.stderr);
    const info = JSON.parse(up.stdout) as { name: string; kubeconfig: string; server: string };
    assert.equal(info.name, 'cli');
    assert.match(info.server, /^https:\/\/127\.0\.0\.1:\d+$/);

    const kc = new KubeConfig();
    kc.loadFromFile(info.kubeconfig);
    const nodes = await kc.makeApiClient(CoreV1Api).listNode();
    assert.equal(nodes.items.length, 2);

    const again = await runCli(['sandbox', 'up', '--name', 'cli', '--detach'], { env });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already running/);

    const status = await runCli(['sandbox', 'status', '-o', 'json'], { env });
    const rows = JSON.parse(status.stdout) as { name: string; reachable: boolean; status: string }[];
    assert.deepEqual(
      rows.map((r) => [r.name, r.status, r.reachable]),
      [['cli', 'ready', true]],
    );

    const { readState } = await import('../../src/sandbox/registry.ts');
    process.env['LIFELINE_HOME'] = home;
    const state = await readState('cli');
    const pids = [state?.supervisorPid ?? -1, ...Object.values(state?.componentPids ?? {})];
    assert.equal(pids.length, 6);

    const down = await runCli(['sandbox', 'down', '--name', 'cli'], { env });
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(
      pids.filter((p) => pidAlive(p)),
      [],
    );
    await assert.rejects(stat(join(home, 'sandboxes', 'cli')));
  });

  it('rejects a bad name with a fix', async () => {
    const r = await runCli(['sandbox', 'up', '--name', 'Bad_Name'], { env });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid sandbox name/);
    assert.match(r.stderr, /fix:/);
  });
});
