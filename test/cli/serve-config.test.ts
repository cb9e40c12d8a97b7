import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliEntry, runCli } from '../support/cli.ts';

async function configFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeline-cfg-'));
  const file = join(dir, 'f.yaml');
  await writeFile(file, text);
  return file;
}

describe('lifeline serve --config', () => {
  it('rejects server.port: "not-a-port" naming the file, the field and the fix', async () => {
    const file = await configFile('server:\n  port: "not-a-port"\n');
    const r = await runCli(['serve', '--config', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(r.stderr, /server\.port/);
    assert.match(r.stderr, /fix: .*integer between 0 and 65535/);
  });

  it('rejects an unknown key with the key named', async () => {
    const file = await configFile('server:\n  prot: 80\n');
    const r = await runCli(['serve', '--config', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /prot/);
  });

  it('rejects broken YAML with the line', async () => {
    const file = await configFile('server:\n  port: [1,\n');
    const r = await runCli(['serve', '--config', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not valid YAML/);
  });

  it('reports a missing file', async () => {
    const r = await runCli(['serve', '--config', '/nonexistent/lifeline.yaml']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot read configuration file \/nonexistent\/lifeline.yaml/);
  });

  it('serves /healthz, /readyz and /metrics with a valid config, and stops on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lifeline-serve-'));
    const file = await configFile(
      `server:\n  host: 127.0.0.1\n  port: 0\nstore:\n  driver: sqlite\n  path: ${join(dir, 'l.db')}\nobjectStore:\n  driver: fs\n  root: ${join(dir, 'objects')}\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, 'serve', '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /serving on (http:\/\/\S+)/.exec(out);
          if (m?.[1] !== undefined) resolve(m[1]);
        });
        child.once('exit', (code) => {
          reject(new Error(`serve exited with ${code}`));
        });
      });
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(await (await fetch(`${url}/healthz`)).text(), 'ok');
      const ready = await fetch(`${url}/readyz`);
      assert.equal(ready.status, 200);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /lifeline_process_cpu_seconds_total/);
      // The configured Store and ObjectStore were opened (SQLite file and fs root created).
      assert.ok((await stat(join(dir, 'l.db'))).isFile());
      assert.ok((await stat(join(dir, 'objects'))).isDirectory());
    } finally {
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 0);
    }
  });
});
