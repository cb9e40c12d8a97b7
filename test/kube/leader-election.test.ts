import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sleep, waitFor } from '../../src/core/clock.ts';
import { createLogger } from '../../src/core/logger.ts';
import { LeaderElector, kubeGetJson, type LeaseJson } from '../../src/kube/index.ts';
import { useTestCluster } from '../support/sandbox.ts';
import { startTcpProxy } from './tcp-proxy.ts';
import { KubeConfig } from '@kubernetes/client-node';

const cluster = await useTestCluster({ nodes: 1, name: 'kube-leader' });
const workDir = await mkdtemp(join(tmpdir(), 'lifeline-leader-'));
const fixture = new URL('./fixtures/leader-candidate.ts', import.meta.url).pathname;
const TIMING = { leaseSeconds: 2, renewDeadlineMs: 1500, retryPeriodMs: 300 };
const proxy = await startTcpProxy(Number(new URL(cluster.server).port));
after(() => proxy.close());
const quiet = createLogger({ name: 'leader-test', level: 'error' });

function proxiedKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(
    readFileSync(cluster.kubeconfigPath, 'utf8').replaceAll(
      cluster.server,
      `https://127.0.0.1:${proxy.port}`,
    ),
  );
  return kc;
}

function elector(kc: KubeConfig, namespace: string, name: string, identity: string): LeaderElector {
  return new LeaderElector(kc, {
    namespace,
    name,
    identity,
    leaseDurationSeconds: TIMING.leaseSeconds,
    renewDeadlineMs: TIMING.renewDeadlineMs,
    retryPeriodMs: TIMING.retryPeriodMs,
    logger: quiet,
  });
}

/** Runs one term in the background; resolves `leading` when it starts and records when the signal fires. */
function term(e: LeaderElector, stop: AbortSignal) {
  let startedAt: number | undefined;
  let abortedAt: number | undefined;
  let reason: string | undefined;
  let markLeading: () => void = () => undefined;
  const leading = new Promise<void>((resolve) => {
    markLeading = resolve;
  });
  const done = e.run(
    {
      onStartedLeading: async (signal) => {
        startedAt = Date.now();
        markLeading();
        await new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            abortedAt = Date.now();
            reason = (signal.reason as { reason?: string }).reason;
            resolve();
          });
        });
      },
    },
    stop,
  );
  return { leading, done, info: () => ({ startedAt, abortedAt, reason }) };
}

interface Candidate {
  identity: string;
  out: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
  killedAt?: number;
}
const candidates: Candidate[] = [];
after(async () => {
  for (const c of candidates)
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  await Promise.all(candidates.map((c) => c.exited));
  await rm(workDir, { recursive: true, force: true });
});

function spawnCandidate(
  identity: string,
  namespace: string,
  lease: string,
  mode: 'handoff' | 'hold',
  opts: { release?: boolean; cooldownMs?: number } = {},
): Candidate {
  const out = join(workDir, `${identity}.jsonl`);
  const log = openSync(join(workDir, `${identity}.log`), 'a');
  const cfg = {
    kubeconfig: cluster.kubeconfigPath,
    namespace,
    lease,
    identity,
    out,
    mode,
    ...TIMING,
    holdMinMs: 100,
    holdMaxMs: 400,
    cooldownMs: opts.cooldownMs ?? 700,
    release: opts.release ?? true,
  };
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify(cfg)], {
    stdio: ['ignore', log, log],
    env: { ...process.env, LIFELINE_LOG_LEVEL: 'warn' },
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => {
      resolve(code);
    });
  });
  const c: Candidate = { identity, out, proc, exited };
  candidates.push(c);
  return c;
}

interface Rec {
  ev: 'ready' | 'start' | 'stop' | 'exit';
  t: number;
  id: string;
  reason?: string;
}
interface Interval {
  id: string;
  start: number;
  end: number;
  reason: string;
}

function records(c: Candidate): Rec[] {
  if (!existsSync(c.out)) return [];
  return readFileSync(c.out, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Rec);
}

/** Leadership intervals; an interval still open ends at the kill time, or now if still leading. */
function intervals(cs: Candidate[]): Interval[] {
  const out: Interval[] = [];
  for (const c of cs) {
    let open: number | undefined;
    for (const r of records(c)) {
      if (r.ev === 'start') open = r.t;
      if (r.ev === 'stop' && open !== undefined) {
        out.push({ id: c.identity, start: open, end: r.t, reason: r.reason ?? '' });
        open = undefined;
      }
    }
    if (open !== undefined)
      out.push({ id: c.identity, start: open, end: c.killedAt ?? Date.now(), reason: 'open' });
  }
  return out.sort((a, b) => a.start - b.start);
}

function transitions(iv: Interval[]): number {
  let n = 0;
  for (let i = 1; i < iv.length; i++) if (iv[i]?.id !== iv[i - 1]?.id) n++;
  return n;
}

/** Consecutive intervals must not overlap; returns the gaps between them (ms). */
function assertNoOverlap(iv: Interval[]): number[] {
  const gaps: number[] = [];
  for (let i = 1; i < iv.length; i++) {
    const prev = iv[i - 1];
    const cur = iv[i];
    if (prev === undefined || cur === undefined) continue;
    assert.ok(
      prev.end <= cur.start,
      `two leaders at once: ${prev.id} [${prev.start}, ${prev.end}] overlaps ${cur.id} [${cur.start}, ${cur.end}]`,
    );
    gaps.push(cur.start - prev.end);
  }
  return gaps;
}

function currentLeader(cs: Candidate[]): Candidate | undefined {
  return cs.find((c) => c.killedAt === undefined && intervals([c]).some((i) => i.reason === 'open'));
}

async function readLease(namespace: string, name: string): Promise<LeaseJson> {
  return kubeGetJson<LeaseJson>(cluster.kc, {
    path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`,
  });
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

describe('leader election (two processes, one sandbox)', () => {
  it('rejects timings that break the safety argument', () => {
    assert.throws(
      () =>
        new LeaderElector(cluster.kc, {
          namespace: 'default',
          name: 'x',
          identity: 'a',
          leaseDurationSeconds: 1,
          renewDeadlineMs: 1500,
          retryPeriodMs: 300,
        }),
      /leaseDuration > renewDeadline/,
    );
  });

  it('aborts leader-only work by the renew deadline when the apiserver becomes unreachable; the other waits it out', async () => {
    const ns = await cluster.createNamespace('le-deadline');
    const stop = new AbortController();
    const a = term(elector(proxiedKubeConfig(), ns, 'deadline', 'cut-off'), stop.signal);
    await a.leading;
    const b = term(elector(cluster.kc, ns, 'deadline', 'direct'), stop.signal);
    await sleep(1000);
    const cutAt = Date.now();
    proxy.block();
    try {
      await b.leading;
      const ia = a.info();
      const ib = b.info();
      assert.equal(ia.reason, 'renew-deadline');
      const abortAfterCut = (ia.abortedAt ?? NaN) - cutAt;
      // The last renew before the cut was sent at most retryPeriod (+ its round trip) earlier.
      assert.ok(abortAfterCut <= TIMING.renewDeadlineMs + 300, `aborted ${abortAfterCut} ms after the cut`);
      // ...and not before the deadline of a renew that did succeed shortly before the cut.
      assert.ok(
        abortAfterCut >= TIMING.renewDeadlineMs - TIMING.retryPeriodMs - 300,
        `aborted early: ${abortAfterCut} ms`,
      );
      assert.ok((ia.abortedAt ?? Infinity) <= (ib.startedAt ?? -Infinity), 'no overlap');
      console.log(
        `renew deadline: signal fired ${abortAfterCut} ms after the cut; the other led ${(ib.startedAt ?? NaN) - (ia.abortedAt ?? NaN)} ms later`,
      );
    } finally {
      proxy.unblock();
      stop.abort();
      await Promise.all([a.done, b.done]);
    }
  });

  it('aborts at the next renew when another holder has taken the Lease', async () => {
    const ns = await cluster.createNamespace('le-lost');
    const stop = new AbortController();
    const a = term(elector(cluster.kc, ns, 'lost', 'victim'), stop.signal);
    await a.leading;
    const path = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/lost`;
    const current = await kubeGetJson<LeaseJson>(cluster.kc, { path });
    const takenAt = Date.now();
    await kubeGetJson<LeaseJson>(cluster.kc, {
      method: 'PUT',
      path,
      body: { ...current, spec: { ...current.spec, holderIdentity: 'intruder' } },
    });
    const result = await a.done;
    assert.ok(result.led);
    assert.equal(result.reason, 'lost');
    const lostAfter = (a.info().abortedAt ?? NaN) - takenAt;
    assert.ok(lostAfter <= TIMING.retryPeriodMs + 300, `noticed after ${lostAfter} ms`);
    const l = await kubeGetJson<LeaseJson>(cluster.kc, { path });
    assert.equal(
      l.spec?.holderIdentity,
      'intruder',
      'a lost leader does not release a Lease it no longer holds',
    );
    stop.abort();
  });

  it('hands leadership back and forth ≥ 50 times and never has two leaders at once', async () => {
    const ns = await cluster.createNamespace('le-handoff');
    const lease = 'handoff';
    const t0 = Date.now();
    const group = [
      spawnCandidate('hand-a', ns, lease, 'handoff'),
      spawnCandidate('hand-b', ns, lease, 'handoff'),
    ];
    await waitFor('50 transitions', () => (transitions(intervals(group)) >= 50 ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    for (const c of group) c.proc.kill('SIGTERM');
    assert.deepEqual(await Promise.all(group.map((c) => c.exited)), [0, 0]);
    const elapsedS = (Date.now() - t0) / 1000;

    const iv = intervals(group);
    assert.ok(
      iv.every((i) => i.reason !== 'open'),
      'every term ended with a stop record',
    );
    const gaps = assertNoOverlap(iv);
    const n = transitions(iv);
    assert.ok(n >= 50, `${n} transitions`);
    assert.ok(
      iv.every((i) => i.reason === 'work-finished' || i.reason === 'stopped'),
      `terms ended only voluntarily here: ${JSON.stringify([...new Set(iv.map((i) => i.reason))])}`,
    );
    // client-go semantics on the Lease: every acquisition by a new holder counts a transition.
    const l = await readLease(ns, lease);
    assert.equal(l.spec?.leaseTransitions, iv.length - 1);
    assert.equal(l.spec.holderIdentity ?? '', '', 'released on exit');
    console.log(
      `handoff: ${iv.length} terms, ${n} transitions in ${elapsedS.toFixed(1)} s; gap between leaders ` +
        `min ${Math.min(...gaps)} ms, p50 ${pct(gaps, 50)} ms, max ${Math.max(...gaps)} ms; leaseTransitions ${l.spec.leaseTransitions}`,
    );
  });

  it('a leader that steps down without releasing is replaced only after the Lease expires (10 transitions)', async () => {
    const ns = await cluster.createNamespace('le-expiry');
    const lease = 'expiry';
    const group = [
      spawnCandidate('exp-release', ns, lease, 'handoff'),
      // A holder may always renew its own Lease (client-go), so it sits out longer than leaseDuration.
      spawnCandidate('exp-keep', ns, lease, 'handoff', { release: false, cooldownMs: 3000 }),
    ];
    await waitFor('10 transitions', () => (transitions(intervals(group)) >= 10 ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    for (const c of group) c.proc.kill('SIGTERM');
    assert.deepEqual(await Promise.all(group.map((c) => c.exited)), [0, 0]);
    const iv = intervals(group);
    const gaps = assertNoOverlap(iv);
    const afterKeep: number[] = [];
    const afterRelease: number[] = [];
    iv.forEach((cur, i) => {
      const next = iv[i + 1];
      if (next === undefined || next.id === cur.id) return;
      (cur.id === 'exp-keep' ? afterKeep : afterRelease).push(gaps[i] ?? NaN);
    });
    assert.ok(
      afterKeep.length >= 3 && afterRelease.length >= 3,
      `${afterKeep.length} / ${afterRelease.length}`,
    );
    // Without a release the successor waits for expiry: leaseDuration after the last renew it saw.
    assert.ok(
      afterKeep.every((g) => g >= TIMING.leaseSeconds * 1000 - TIMING.retryPeriodMs - 500),
      `gaps after an unreleased Lease: ${afterKeep.join(', ')} ms`,
    );
    console.log(
      `expiry: gaps after an unreleased Lease ${afterKeep.join(', ')} ms; after a release ${afterRelease.join(', ')} ms`,
    );
  });

  it('kill -9 of the leader: another process leads within leaseDuration + 2 s, never overlapping', async () => {
    const ns = await cluster.createNamespace('le-kill');
    const lease = 'kill';
    const group = [spawnCandidate('kill-1', ns, lease, 'hold'), spawnCandidate('kill-2', ns, lease, 'hold')];
    const takeovers: number[] = [];
    const kills = 4;
    for (let k = 0; k < kills; k++) {
      const leader = await waitFor('a leader', () => currentLeader(group), {
        timeoutMs: 20_000,
        intervalMs: 50,
      });
      const held = await readLease(ns, lease);
      assert.equal(held.spec?.holderIdentity, leader.identity);
      assert.equal(held.spec.leaseDurationSeconds, TIMING.leaseSeconds);
      // The survivor must have been campaigning (observing the Lease) before the kill.
      await waitFor('all candidates ready', () =>
        group.every((c) => c.killedAt !== undefined || records(c).length > 0) ? true : undefined,
      );
      await new Promise((r) => setTimeout(r, 1000));

      leader.killedAt = Date.now();
      leader.proc.kill('SIGKILL');
      const next = await waitFor(
        'a new leader',
        () =>
          group.find(
            (c) => c !== leader && records(c).some((r) => r.ev === 'start' && r.t >= (leader.killedAt ?? 0)),
          ),
        { timeoutMs: 10_000, intervalMs: 20 },
      );
      const startedAt =
        records(next).find((r) => r.ev === 'start' && r.t >= (leader.killedAt ?? 0))?.t ?? NaN;
      const takeover = startedAt - leader.killedAt;
      takeovers.push(takeover);
      assert.ok(takeover <= TIMING.leaseSeconds * 1000 + 2000, `takeover took ${takeover} ms`);
      // It waited for the Lease to expire rather than grabbing it (the dead leader renewed ≤ retryPeriod before).
      assert.ok(takeover >= TIMING.leaseSeconds * 1000 - 1000, `takeover after only ${takeover} ms`);
      const after = await readLease(ns, lease);
      assert.equal(after.spec?.holderIdentity, next.identity);
      assert.equal(after.spec.leaseTransitions, (held.spec.leaseTransitions ?? 0) + 1);
      group.push(spawnCandidate(`kill-${k + 3}`, ns, lease, 'hold'));
    }
    assertNoOverlap(intervals(group));
    console.log(
      `kill -9: ${kills} takeovers, ${takeovers.join(' / ')} ms (bound ${TIMING.leaseSeconds * 1000 + 2000} ms)`,
    );
  });
});
