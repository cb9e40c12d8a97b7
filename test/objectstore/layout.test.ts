import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertValidKey,
  backupNameOf,
  compareKeys,
  decodeSegment,
  encodeSegment,
  InvalidKeyError,
  layout,
} from '../../src/objectstore/index.ts';

describe('object keys', () => {
  it('accepts ordinary keys and rejects unsafe ones with a reason', () => {
    for (const ok of ['a', 'a/b', 'backups/x-1/manifest.json', 'é/ü', 'a b/c', 'a..b']) assertValidKey(ok);
    const bad: [string, RegExp][] = [
      ['', /empty key/],
      ['a//b', /empty segment/],
      ['/a', /empty segment/],
      ['a/', /empty segment/],
      ['..', /not allowed/],
      ['a/../b', /not allowed/],
      ['a/./b', /not allowed/],
      ['.meta/x', /starts with "\."/],
      ['a\\b', /contains "\\"/],
      ['a\nb', /control character/],
      ['k'.repeat(1025), /longer than 1024 bytes/],
      ['é'.repeat(513), /longer than 1024 bytes/],
    ];
    for (const [key, reason] of bad) {
      assert.throws(
        () => {
          assertValidKey(key);
        },
        (err: unknown) => err instanceof InvalidKeyError && reason.test(err.message) && err.fix !== undefined,
      );
    }
  });

  it('orders keys by UTF-8 bytes, as S3 lists them', () => {
    assert.deepEqual(['a/b', 'a-c', 'é', 'z', 'Z'].sort(compareKeys), ['Z', 'a-c', 'a/b', 'z', 'é']);
    // U+FF5E (3 UTF-8 bytes) sorts before U+1F600 (4 bytes, a surrogate pair in UTF-16).
    const [bmp, astral]: string[] = ['\uff5e', '\u{1f600}'];
    assert.ok(bmp !== undefined && astral !== undefined);
    assert.ok(compareKeys(bmp, astral) < 0);
    assert.ok(bmp > astral, 'plain string comparison would get this wrong');
  });
});

describe('layout', () => {
  it('builds every key under its documented folder', () => {
    assert.equal(layout.backupManifest('nightly-2026-11-25'), 'backups/nightly-2026-11-25/manifest.json');
    assert.equal(layout.backupSegment('b1', 1), 'backups/b1/segments/000001.seg');
    assert.equal(layout.backupSegment('b1', 123456), 'backups/b1/segments/123456.seg');
    assert.equal(layout.backupSegmentsFolder('b1'), 'backups/b1/segments/');
    assert.equal(layout.backupFolder('b1'), 'backups/b1/');
    assert.equal(layout.backupLock('b1'), 'backups/b1/lock');
    assert.equal(layout.restorePlan('r1'), 'restores/r1/plan.json');
    assert.equal(layout.restoreResults('r1'), 'restores/r1/results.json.gz');
    assert.equal(
      layout.workflowArtifact('run-1', 'snapshot', 'output.json'),
      'workflows/run-1/snapshot/output.json',
    );
    assert.equal(layout.anomalyModel('lstm', 'up'), 'models/lstm/up.json');
    assert.equal(layout.drillEvidence('d1'), 'drills/d1/evidence.json');
    assert.equal(layout.formatMarker(), 'lifeline.json');
    assert.equal(backupNameOf(layout.backupSegment('b7', 3)), 'b7');
    assert.equal(backupNameOf('restores/r1/plan.json'), undefined);
  });

  it('segment numbers sort in listing order', () => {
    const keys = [10, 2, 1, 100].map((i) => layout.backupSegment('b', i)).sort(compareKeys);
    assert.deepEqual(
      keys,
      [1, 2, 10, 100].map((i) => layout.backupSegment('b', i)),
    );
    assert.throws(() => layout.backupSegment('b', 0), InvalidKeyError);
    assert.throws(() => layout.backupSegment('b', 1_000_000), InvalidKeyError);
    assert.throws(() => layout.backupSegment('b', 1.5), InvalidKeyError);
  });

  it('rejects names that would escape their folder or be empty', () => {
    for (const bad of ['', '..', 'a/b', '../x', '.hidden', '-x', 'a..b', 'x'.repeat(254), 'a b']) {
      assert.throws(() => layout.backupManifest(bad), InvalidKeyError, `backup name ${JSON.stringify(bad)}`);
    }
    assert.throws(() => layout.workflowArtifact('run', 'step', '../../etc'), InvalidKeyError);
  });

  it('escapes free-form series names into one reversible segment', () => {
    const series = 'node_cpu{instance="10.0.0.1:9100",path="/a/b"}';
    const key = layout.anomalyModel('lstm', series);
    assert.equal(key.split('/').length, 3);
    assertValidKey(key);
    const segment = key.split('/')[2]?.replace(/\.json$/, '') ?? '';
    assert.equal(decodeSegment(segment), series);
    assert.equal(encodeSegment('.dot'), '%2Edot');
    assert.equal(decodeSegment(encodeSegment('.dot')), '.dot');
    assert.equal(decodeSegment(encodeSegment('..')), '..');
    assertValidKey(layout.anomalyModel('lstm', '..'));
    assert.throws(() => encodeSegment(''), InvalidKeyError);
  });
});
