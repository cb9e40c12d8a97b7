import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { waitFor } from '../../src/core/clock.ts';
import { cliEntry, runCli } from '../support/cli.ts';

const NAB = '/work/shared/datasets/nab';
const WINDOWS = `${NAB}/labels/dev_windows.json`;
const dir = await mkdtemp(join(tmpdir(), 'lifeline-anomaly-cli-'));
after(() => rm(dir, { recursive: true, force: true }));

// A two-file subset: the CLI must work on any subset of the corpus.
const SUBSET = [
  'realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv',
  'realKnownCause/rogue_agent_key_hold.csv',
];
const data = join(dir, 'data');
for (const key of SUBSET) {
  await mkdir(join(data, key.split('/')[0] ?? ''), { recursive: true });
  await copyFile(join(NAB, 'data', key), join(data, key));
}

describe('lifeline anomaly nab | score', () => {
  it('writes NAB results files with labels, scores them, and reproduces them with the same seed', async () => {
    const runs: string[][] = [];
    for (const out of ['out1', 'out2']) {
      const r = await runCli([
        'anomaly',
        'nab',
        '--data',
        data,
        '--windows',
        WINDOWS,
        '--out',
        join(dir, out),
        '-o',
        'json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as { detector: string; files: number; windows: number };
      assert.equal(report.detector, 'lifeline');
      assert.equal(report.files, 2);
      assert.equal(report.windows, 4);
      runs.push(
        await Promise.all(
          SUBSET.map((key) => {
            const [category, file] = key.split('/');
            return readFile(join(dir, out, 'lifeline', category ?? '', `lifeline_${file ?? ''}`), 'utf8');
          }),
        ),
      );
    }
    assert.deepEqual(runs[0], runs[1], 'same seed, same results files');
    const lines = (runs[0]?.[1] ?? '').trim().split('\n');
    assert.equal(lines[0], 'timestamp,value,anomaly_score,label');
    assert.equal(lines.length - 1, 1882);
    // rogue_agent_key_hold windows cover rows 669–763 and 1240–1334: 190 labelled rows.
    const labelled = lines.slice(1).filter((l) => l.endsWith(',1')).length;
    assert.equal(labelled, 95 + 95);

    const scored = await runCli([
      'anomaly',
      'score',
      '--results',
      join(dir, 'out1'),
      '--windows',
      WINDOWS,
      '--threshold',
      '0.5',
    ]);
    assert.equal(scored.code, 0, scored.stderr);
    for (const profile of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate']) {
      assert.match(scored.stdout, new RegExp(`lifeline\\s+${profile}\\s+-?\\d+\\.\\d\\d\\s+\\d`));
    }
  });

  it('names the flag and the choices for an unknown detector', async () => {
    const r = await runCli([
      'anomaly',
      'nab',
      '--data',
      data,
      '--windows',
      WINDOWS,
      '--out',
      join(dir, 'x'),
      '--detector',
      'nope',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown detector "nope"/);
    assert.match(r.stderr, /where: --detector/);
    assert.match(r.stderr, /fix: +use one of: lifeline, windowed-gaussian/);
  });

  it('rejects results files that match no windows key, saying where', async () => {
    const r = await runCli(['anomaly', 'score', '--results', data, '--windows', WINDOWS]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /matches no file in the windows file/);
  });
});

describe('lifeline anomaly watch', () => {
  it('keeps polling through an unreachable Prometheus (warning per poll) and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        cliEntry,
        'anomaly',
        'watch',
        '--prometheus',
        'http://127.0.0.1:9',
        '--query',
        'up=up',
        '--step',
        '1',
        '--state-dir',
        join(dir, 'state'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitFor(
      'two failed polls',
      () => ((stderr.match(/poll failed; retrying/g) ?? []).length >= 2 ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );
    assert.match(stderr, /cannot reach Prometheus/);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });
});
