import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../../src/core/clock.ts';
import { kvUpdate, runStream, type Store } from '../../src/store/index.ts';

/** A clock the suite moves by hand (leases, TTLs). */
export class ManualClock implements Clock {
  #now: number;
  constructor(start = Date.now()) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** What an implementation gives the suite: a way to open stores on one fresh database. */
export interface StoreFixture {
  /** Opens a Store on the suite's database (a second call gives a second connection). */
  open(clock: Clock): Promise<Store>;
  /** Removes the database. */
  cleanup(): Promise<void>;
}

/**
 * The Store conformance suite: every implementation must pass it unchanged. `setup` creates
 * a fresh, empty database for the suite.
 */
export function storeConformance(name: string, setup: () => Promise<StoreFixture>): void {
  describe(`Store conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;
    let other: Store;
    const clock = new ManualClock();

    before(async () => {
      fixture = await setup();
      store = await fixture.open(clock);
      other = await fixture.open(clock);
    });
    after(async () => {
      await store.close();
      await other.close();
      await fixture.cleanup();
    });

    it('starts empty', async () => {
      assert.deepEqual(await store.listRuns(), []);
      assert.deepEqual(await store.listResumableRuns(), []);
      assert.deepEqual(await store.listApprovals(), []);
      assert.equal(await store.getRun('nope'), undefined);
    });

    it('reopening runs no migration twice and keeps data', async () => {
      await store.append('reopen', { type: 'mark' });
      const again = await fixture.open(clock);
      try {
        assert.equal((await again.read('reopen')).length, 1);
      } finally {
        await again.close();
      }
    });

    it('creates runs, keeps an existing id unchanged, and lists newest first with filters', async () => {
      const a = await store.createRun({ id: 'list-a', workflow: 'wf-list', input: { n: 1 } });
      assert.equal(a.created, true);
      assert.equal(a.run.status, 'pending');
      assert.equal(a.run.leaseTicket, 0);
      assert.equal(a.lease, undefined);
      assert.deepEqual(a.run.input, { n: 1 });
      clock.advance(1);
      const again = await store.createRun({ id: 'list-a', workflow: 'other', input: { n: 2 } });
      assert.equal(again.created, false);
      assert.equal(again.run.workflow, 'wf-list');
      assert.deepEqual(again.run.input, { n: 1 });
      const b = await store.createRun({ workflow: 'wf-list', input: null, lease: { owner: 'me', ms: 1000 } });
      assert.match(b.run.id, /^run-/);
      assert.equal(b.lease?.ticket, 1);
      assert.equal(b.lease.expiresAt, clock.now() + 1000);
      clock.advance(1);
      await store.createRun({ id: 'list-c', workflow: 'wf-list-other', input: [] });
      const listed = await store.listRuns({ workflow: 'wf-list' });
      assert.deepEqual(
        listed.map((r) => r.id),
        [b.run.id, 'list-a'],
      );
      assert.deepEqual(
        (await store.listRuns({ workflow: 'wf-list', limit: 1 })).map((r) => r.id),
        [b.run.id],
      );
      assert.deepEqual(await store.listRuns({ status: ['succeeded'] }), []);
      assert.deepEqual(await store.listRuns({ status: [] }), []);
    });

    it('claims a free run once, refuses while leased, and re-claims after expiry with a higher ticket', async () => {
      await store.createRun({ id: 'claim-1', workflow: 'wf-claim', input: null });
      const first = await store.claimRun('claim-1', 'a', 1000);
      assert.equal(first?.ticket, 1);
      assert.equal(await other.claimRun('claim-1', 'b', 1000), undefined);
      clock.advance(999);
      assert.equal(await other.claimRun('claim-1', 'b', 1000), undefined);
      assert.ok(first);
      const renewed = await store.renewLease(first, 1000);
      assert.equal(renewed?.expiresAt, clock.now() + 1000);
      clock.advance(1000);
      const second = await other.claimRun('claim-1', 'b', 1000);
      assert.equal(second?.ticket, 2);
      assert.equal(await store.renewLease(first, 1000), undefined, 'the old holder cannot renew');
      assert.equal(await store.releaseLease(first), false);
      assert.ok(second);
      assert.equal(await other.releaseLease(second), true);
      const third = await store.claimRun('claim-1', 'a', 1000);
      assert.equal(third?.ticket, 3, 'a released run is claimable at once');
      const run = await store.getRun('claim-1');
      assert.equal(run?.leaseOwner, 'a');
      assert.equal(run.leaseTicket, 3);
    });

    it('exactly one of two concurrent claimers wins each run', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => `race-${i}`);
      for (const id of ids) await store.createRun({ id, workflow: 'wf-race', input: null });
      const results = await Promise.all(
        ids.map((id) => Promise.all([store.claimRun(id, 'a', 5000), other.claimRun(id, 'b', 5000)])),
      );
      for (const [a, b] of results) {
        assert.equal([a, b].filter((l) => l !== undefined).length, 1);
        assert.equal((a ?? b)?.ticket, 1);
      }
    });

    it('lists resumable runs: active with an expired or released lease, of the given workflows', async () => {
      await store.createRun({ id: 'res-free', workflow: 'wf-res', input: null });
      const held = await store.createRun({
        id: 'res-held',
        workflow: 'wf-res',
        input: null,
        lease: { owner: 'x', ms: 500 },
      });
      await store.createRun({ id: 'res-other', workflow: 'wf-res-other', input: null });
      const done = await store.createRun({
        id: 'res-done',
        workflow: 'wf-res',
        input: null,
        lease: { owner: 'x', ms: 500 },
      });
      assert.ok(done.lease);
      await store.updateRun(done.lease, { status: 'succeeded', finishedAt: clock.now(), release: true });
      const ids = async (): Promise<string[]> =>
        (await store.listResumableRuns({ workflows: ['wf-res'] })).map((r) => r.id);
      assert.deepEqual(await ids(), ['res-free']);
      clock.advance(500);
      assert.deepEqual(await ids(), ['res-free', 'res-held']);
      assert.deepEqual(await store.listResumableRuns({ workflows: [] }), []);
      assert.ok(held.lease);
      assert.equal(await store.claimRun('res-done', 'y', 100), undefined, 'a terminal run is never claimed');
    });

    it('fences run and step writes by ticket, and writes step changes and their event atomically', async () => {
      const { lease } = await store.createRun({
        id: 'fence-1',
        workflow: 'wf-fence',
        input: null,
        lease: { owner: 'a', ms: 100 },
      });
      assert.ok(lease);
      await store.ensureSteps('fence-1', ['one', 'two', 'three']);
      await store.ensureSteps('fence-1', ['one', 'two', 'three']);
      const steps = await store.listSteps('fence-1');
      assert.deepEqual(
        steps.map((s) => [s.name, s.index, s.status, s.attempts]),
        [
          ['one', 0, 'pending', 0],
          ['two', 1, 'pending', 0],
          ['three', 2, 'pending', 0],
        ],
      );
      const started = await store.updateStep(
        lease,
        'one',
        { status: 'running', addAttempt: true, startedAt: 5 },
        (s) => ({
          type: 'step.started',
          data: { step: s.name, attempt: s.attempts },
        }),
      );
      assert.equal(started?.attempts, 1);
      assert.equal(started.startedAt, 5);
      const output = { nested: { list: [1, 2.5, 'ü ✓', null, true] }, big: 2 ** 52 };
      const done = await store.updateStep(lease, 'one', {
        status: 'succeeded',
        output,
        finishedAt: 6,
        addFailure: true,
      });
      assert.deepEqual(done?.output, output);
      assert.equal(done.failures, 1);
      assert.ok(await store.updateRun(lease, { status: 'running' }, { type: 'run.started' }));

      clock.advance(100);
      const thief = await other.claimRun('fence-1', 'b', 1000);
      assert.equal(thief?.ticket, 2);
      const before = await store.read(runStream('fence-1'));
      assert.equal(
        await store.updateStep(lease, 'two', { status: 'succeeded', output: 'stale' }, () => ({
          type: 'stale',
        })),
        undefined,
      );
      assert.equal(await store.updateRun(lease, { status: 'failed' }, { type: 'stale' }), undefined);
      assert.deepEqual(await store.read(runStream('fence-1')), before, 'a refused write appends no event');
      const two = (await store.listSteps('fence-1')).find((s) => s.name === 'two');
      assert.equal(two?.status, 'pending');
      assert.equal((await store.getRun('fence-1'))?.status, 'running');
      assert.deepEqual(
        before.map((e) => [e.type, e.data]),
        [
          ['step.started', { step: 'one', attempt: 1 }],
          ['run.started', null],
        ],
      );
      assert.ok(thief);
      const finished = await other.updateRun(thief, {
        status: 'failed',
        error: { name: 'Error', message: 'boom', step: 'two' },
        finishedAt: clock.now(),
        release: true,
      });
      assert.equal(finished?.status, 'failed');
      assert.deepEqual(finished.error, { name: 'Error', message: 'boom', step: 'two' });
      assert.equal(finished.leaseExpiresAt, null);
      assert.equal(await other.renewLease(thief, 100), undefined, 'a terminal run cannot be renewed');
    });

    it('a claim fences the old holder: none of its in-flight writes lands after the new holder wrote', async () => {
      for (let round = 0; round < 15; round++) {
        const id = `fence-race-${round}`;
        const { lease: old } = await store.createRun({
          id,
          workflow: 'wf-fence-race',
          input: null,
          lease: { owner: 'a', ms: 1000 },
        });
        assert.ok(old);
        await store.ensureSteps(id, ['s']);
        let refused = false;
        // The old holder writes as fast as it can, several writes in flight at once.
        const writers = Array.from({ length: 4 }, async (_, w) => {
          for (let n = 0; !refused; n++) {
            const r = await store.updateStep(old, 's', { output: `old-${w}-${n}` });
            if (r === undefined) refused = true;
            // Let timers run: SQLite answers synchronously, so a tight loop would starve them.
            await new Promise((resolve) => setImmediate(resolve));
          }
        });
        await new Promise((resolve) => setTimeout(resolve, 5));
        clock.advance(1000);
        const fresh = await other.claimRun(id, 'b', 1000);
        assert.ok(fresh);
        assert.ok(await other.updateStep(fresh, 's', { output: 'new' }));
        await Promise.all(writers);
        assert.equal((await other.listSteps(id))[0]?.output, 'new', `round ${round}`);
      }
    });

    it('opens, decides and expires approval gates', async () => {
      await store.createRun({ id: 'appr-1', workflow: 'wf-appr', input: null });
      const opened = await store.requestApproval({
        runId: 'appr-1',
        step: 'deploy',
        ttlMs: 1000,
        summary: 'go?',
      });
      assert.equal(opened.status, 'pending');
      assert.equal(opened.expiresAt, clock.now() + 1000);
      clock.advance(400);
      const reopened = await store.requestApproval({ runId: 'appr-1', step: 'deploy', ttlMs: 1000 });
      assert.equal(reopened.expiresAt, opened.expiresAt, 'asking again keeps the TTL');
      assert.equal(reopened.summary, 'go?');
      assert.deepEqual(
        (await store.listApprovals({ status: 'pending' })).map((a) => a.step),
        ['deploy'],
      );
      const decided = await other.decideApproval({
        runId: 'appr-1',
        step: 'deploy',
        decision: 'approved',
        by: 'alice',
        reason: 'ok',
      });
      assert.ok(decided.outcome === 'decided');
      assert.equal(decided.approval.decidedBy, 'alice');
      const twice = await store.decideApproval({
        runId: 'appr-1',
        step: 'deploy',
        decision: 'denied',
        by: 'bob',
      });
      assert.equal(twice.outcome, 'already-decided');
      assert.equal((await store.getApproval('appr-1', 'deploy'))?.status, 'approved');
      const events = await store.read(runStream('appr-1'));
      assert.deepEqual(
        events.map((e) => [e.type, e.data]),
        [['approval.approved', { step: 'deploy', by: 'alice', reason: 'ok' }]],
      );

      await store.requestApproval({ runId: 'appr-1', step: 'delete', ttlMs: 1000 });
      assert.equal(
        (await store.decideApproval({ runId: 'appr-1', step: 'delete', decision: 'denied', by: 'bob' }))
          .outcome,
        'decided',
      );
      assert.equal((await store.getApproval('appr-1', 'delete'))?.status, 'denied');

      await store.requestApproval({ runId: 'appr-1', step: 'late', ttlMs: 1000 });
      clock.advance(1000);
      assert.equal((await store.getApproval('appr-1', 'late'))?.status, 'expired');
      assert.deepEqual(
        (await store.listApprovals({ runId: 'appr-1', status: 'expired' })).map((a) => a.step),
        ['late'],
      );
      assert.deepEqual(await store.listApprovals({ runId: 'appr-1', status: 'pending' }), []);
      const late = await store.decideApproval({
        runId: 'appr-1',
        step: 'late',
        decision: 'approved',
        by: 'carol',
      });
      assert.equal(late.outcome, 'expired');
      assert.equal(
        (await store.decideApproval({ runId: 'appr-1', step: 'nope', decision: 'approved', by: 'x' }))
          .outcome,
        'not-found',
      );
      assert.deepEqual(
        (await store.listApprovals({ runId: 'appr-1' })).map((a) => [a.step, a.status]),
        [
          ['deploy', 'approved'],
          ['delete', 'denied'],
          ['late', 'expired'],
        ],
      );
    });

    it('journals: per-stream order, afterSeq paging, limit', async () => {
      for (let i = 0; i < 5; i++) {
        await store.append('j-a', { type: 'tick', data: { i } });
        await other.append('j-b', { type: 'tock', data: i });
      }
      const a = await store.read('j-a');
      assert.deepEqual(
        a.map((e) => e.data),
        [0, 1, 2, 3, 4].map((i) => ({ i })),
      );
      assert.ok(a.every((e, i) => i === 0 || e.seq > (a[i - 1]?.seq ?? Infinity)));
      const third = a[2];
      assert.ok(third);
      assert.deepEqual(
        (await store.read('j-a', { afterSeq: third.seq })).map((e) => e.data),
        [{ i: 3 }, { i: 4 }],
      );
      assert.equal((await store.read('j-b', { limit: 2 })).length, 2);
      assert.deepEqual(await store.read('j-none'), []);
    });

    it('key-value: versions, compare-and-set, create-only, delete, prefix list', async () => {
      const created = await store.kvPut('cfg', 'a', { v: 1 });
      assert.equal(created?.version, 1);
      assert.equal((await store.kvPut('cfg', 'a', { v: 2 }))?.version, 2);
      assert.equal(await store.kvPut('cfg', 'a', { v: 3 }, { expectVersion: 1 }), undefined);
      assert.equal((await store.kvPut('cfg', 'a', { v: 3 }, { expectVersion: 2 }))?.version, 3);
      assert.equal(
        await store.kvPut('cfg', 'a', 'x', { expectVersion: 0 }),
        undefined,
        'create-only refuses an existing key',
      );
      assert.deepEqual((await other.kvGet('cfg', 'a'))?.value, { v: 3 });
      assert.equal(await store.kvPut('cfg', 'missing', 1, { expectVersion: 4 }), undefined);
      assert.equal(await store.kvDelete('cfg', 'a', { expectVersion: 2 }), false);
      assert.equal(await store.kvDelete('cfg', 'a', { expectVersion: 3 }), true);
      assert.equal(await store.kvGet('cfg', 'a'), undefined);
      assert.equal(await store.kvDelete('cfg', 'a'), false);

      for (const key of ['pre/a', 'pre/b', 'Pre/c', 'pre%x', 'prefix', 'other'])
        await store.kvPut('list', key, key);
      await store.kvPut('list-else', 'pre/z', 1);
      assert.deepEqual(
        (await store.kvList('list', { prefix: 'pre/' })).map((e) => e.key),
        ['pre/a', 'pre/b'],
      );
      assert.deepEqual(
        (await store.kvList('list', { prefix: 'pre%' })).map((e) => e.key),
        ['pre%x'],
      );
      assert.equal((await store.kvList('list')).length, 6);
      assert.equal((await store.kvList('list', { limit: 2 })).length, 2);
    });

    it('key-value TTL: an expired entry is invisible and counts as absent', async () => {
      await store.kvPut('ttl', 'cooldown', { until: 1 }, { ttlMs: 1000 });
      const live = await store.kvGet('ttl', 'cooldown');
      assert.equal(live?.expiresAt, clock.now() + 1000);
      clock.advance(1000);
      assert.equal(await store.kvGet('ttl', 'cooldown'), undefined);
      assert.deepEqual(await store.kvList('ttl'), []);
      assert.equal(
        await store.kvPut('ttl', 'cooldown', 'again', { expectVersion: 1 }),
        undefined,
        'no CAS on an expired entry',
      );
      const replaced = await store.kvPut('ttl', 'cooldown', 'again', { expectVersion: 0 });
      assert.deepEqual(replaced?.value, 'again');
      assert.equal(replaced.expiresAt, null);
    });

    it('key-value: of concurrent create-only writers exactly one wins; CAS increments lose nothing', async () => {
      for (let round = 0; round < 10; round++) {
        const results = await Promise.all([
          store.kvPut('lock', `k${round}`, 'a', { expectVersion: 0 }),
          other.kvPut('lock', `k${round}`, 'b', { expectVersion: 0 }),
        ]);
        assert.equal(results.filter((r) => r !== undefined).length, 1);
      }
      const bump = (s: Store) =>
        kvUpdate(s, 'budget', 'restarts', (v) => (typeof v === 'number' ? v + 1 : 1));
      await Promise.all(Array.from({ length: 25 }, (_, i) => (i % 2 === 0 ? bump(store) : bump(other))));
      await Promise.all([
        ...Array.from({ length: 20 }, () => bump(store)),
        ...Array.from({ length: 20 }, () => bump(other)),
      ]);
      assert.equal((await store.kvGet('budget', 'restarts'))?.value, 65);
    });
  });
}
