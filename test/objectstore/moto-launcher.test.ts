import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LifelineError } from '../../src/core/errors.ts';
import { pidAlive } from '../../src/sandbox/process.ts';
import { startMoto } from '../../src/sandbox/moto.ts';

const logDir = await mkdtemp(join(tmpdir(), 'lifeline-moto-launcher-'));
after(() => rm(logDir, { recursive: true, force: true }));

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

describe('startMoto', () => {
  it('runs the real moto_server on 127.0.0.1 with metadata disabled, and stop() ends it', async () => {
    const moto = await startMoto({ logDir, name: 'moto-lifecycle' });
    try {
      assert.equal(await portOpen(moto.port), true);
      const environ = await readFile(`/proc/${moto.process.pid}/environ`, 'utf8');
      assert.ok(environ.split('\0').includes('AWS_EC2_METADATA_DISABLED=true'));
      const cmdline = (await readFile(`/proc/${moto.process.pid}/cmdline`, 'utf8')).split('\0');
      assert.ok(cmdline.includes('127.0.0.1'), `bound to loopback: ${cmdline.join(' ')}`);
    } finally {
      await moto.stop();
    }
    assert.equal(moto.process.running(), false);
    assert.equal(pidAlive(moto.process.pid), false);
    assert.equal(await portOpen(moto.port), false);
    await moto.stop(); // idempotent
  });

  it('says how to install moto when the command is missing', async () => {
    await assert.rejects(startMoto({ logDir, command: 'lifeline-no-such-moto-server' }), (err: unknown) => {
      assert.ok(err instanceof LifelineError);
      assert.equal(err.code, 'moto.start');
      assert.match(err.fix ?? '', /setup-system\.sh/);
      return true;
    });
  });

  it('reports a server that exits before it is ready, with its log file', async () => {
    await assert.rejects(startMoto({ logDir, name: 'moto-exits', command: 'false' }), (err: unknown) => {
      assert.ok(err instanceof LifelineError);
      assert.equal(err.code, 'moto.exited');
      assert.equal(err.where, join(logDir, 'moto-exits.log'));
      return true;
    });
  });
});
