// End-to-end: a real Prometheus (Debian package) scrapes a metrics endpoint served here with two
// series; `AnomalyWatcher` follows them through query_range, is restarted mid-way (models resumed
// from the file store), and must signal the injected level shift within the configured delay and
// never signal on the clean series.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sleep, waitFor } from '../../src/core/clock.ts';
import { queryRange } from '../../src/detect/anomaly/prometheus/query-range.ts';
import { FileModelStateStore } from '../../src/detect/anomaly/state-store.ts';
import { AnomalyWatcher, type WatchOptions } from '../../src/detect/anomaly/watch.ts';
import { startPrometheus } from '../../src/sandbox/prometheus.ts';
import type { Signal } from '../../src/signals/signal.ts';

const dir = await mkdtemp(join(tmpdir(), 'lifeline-anomaly-watch-'));
after(() => rm(dir, { recursive: true, force: true }));

/** Seconds the signal may take after the shift: lag 2 + one poll interval + scrape 1 + slack. */
const MAX_DELAY_SEC = 8;
const PROBATION = 40;

/**
 * Serves two gauges: a 30 s wave with noise; `shifted` gets +15 once `shift` is called, and +4
 * on the one scrape after `blip` (beyond the range seen so far, yet within 4 robust deviations:
 * an alarm the corroborating detector does not confirm).
 */
async function metricsServer(): Promise<{
  port: number;
  shift(): void;
  blip(): void;
  close(): Promise<void>;
}> {
  let shifted = false;
  let blip = false;
  let seed = 7;
  const noise = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed / 2147483648 - 0.5) * 0.6;
  };
  const srv = createServer((_req, res) => {
    const t = Date.now() / 1000;
    const wave = 10 + 2 * Math.sin((2 * Math.PI * t) / 30);
    res.end(
      '# TYPE demo_latency_seconds gauge\n' +
        `demo_latency_seconds{series="clean"} ${wave + noise()}\n` +
        `demo_latency_seconds{series="shifted"} ${wave + noise() + (shifted ? 15 : 0) + (blip ? 4 : 0)}\n`,
    );
    blip = false;
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    shift: () => {
      shifted = true;
    },
    blip: () => {
      blip = true;
    },
    close: () =>
      new Promise((r) => {
        srv.close(() => {
          r();
        });
      }),
  };
}

describe('anomaly watch on a real Prometheus', () => {
  it('resumes per-series models after a restart, signals an injected level shift in time, and stays quiet on the clean series', async () => {
    const metrics = await metricsServer();
    after(() => metrics.close());
    const prom = await startPrometheus({
      scrapeTargets: [`127.0.0.1:${metrics.port}`],
      scrapeIntervalSec: 1,
      logDir: join(dir, 'logs'),
    });
    after(() => prom.stop());

    const signals: Signal[] = [];
    // A function, so the compiler does not take the count as fixed after an assertion.
    const received = (): number => signals.length;
    const store = new FileModelStateStore(join(dir, 'models'));
    const options: WatchOptions = {
      prometheusUrl: prom.url,
      queries: [{ name: 'latency', query: 'demo_latency_seconds' }],
      stepSec: 1,
      intervalSec: 1,
      lagSec: 2,
      detectorOptions: { probation: PROBATION, seed: 1, lstm: { steps: 8, hidden: 8, epochs: 30 } },
      store,
      sink: (s) => {
        signals.push(s);
      },
    };

    // Wait until Prometheus has the warm-up history for both series.
    await waitFor(
      'warm-up history in Prometheus',
      async () => {
        const now = Date.now() / 1000;
        const r = await queryRange({
          baseUrl: prom.url,
          query: 'demo_latency_seconds',
          start: now - 120,
          end: now,
          stepSec: 1,
        });
        return r.length === 2 && r.every((s) => s.points.length >= PROBATION + 5) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );

    const first = new AnomalyWatcher(options);
    const warm = await first.pollOnce();
    assert.equal(warm.series, 2);
    assert.ok(warm.records >= 2 * PROBATION, `backfill fed ${warm.records} records`);
    await sleep(3000);
    await first.pollOnce();

    // Restart: a new watcher on the same store picks the models up where the first left them.
    const second = new AnomalyWatcher(options);
    await sleep(1000);
    const resumedPoll = await second.pollOnce();
    assert.equal(resumedPoll.resumed, 2, 'both series models resumed from the store');
    assert.ok(resumedPoll.records <= 2 * 6, `resumed poll re-read only new records (${resumedPoll.records})`);
    const metricsText = await second.registry.metrics();
    assert.match(
      metricsText,
      /lifeline_anomaly_score\{query="latency",series="\{.*series=\\"clean\\".*\}"\} \d/,
    );

    // Clean period with one uncorroborated blip: no signal at all, and (below) the blip's alarm
    // must not mask the real shift that follows.
    metrics.blip();
    for (let i = 0; i < 5; i++) {
      await sleep(1000);
      await second.pollOnce();
    }
    assert.ok(signals.length === 0, `no signal before the shift, got ${JSON.stringify(signals)}`);

    metrics.shift();
    const shiftedAt = Date.now();
    let detectedAt = 0;
    while (Date.now() - shiftedAt < 20_000) {
      await sleep(1000);
      await second.pollOnce();
      if (detectedAt === 0 && received() > 0) detectedAt = Date.now();
    }
    assert.ok(received() > 0, 'the level shift was signalled');
    const delay = (detectedAt - shiftedAt) / 1000;
    assert.ok(delay <= MAX_DELAY_SEC, `signalled after ${delay} s (limit ${MAX_DELAY_SEC} s)`);
    for (const s of signals) {
      assert.equal(s.subject.series?.['series'], 'shifted', `signal on ${JSON.stringify(s.subject)}`);
      assert.equal(s.source, 'anomaly');
      assert.ok(s.idempotencyKey.startsWith('anomaly:latency:'));
      assert.equal(s.evidence['corroboratedBy'], 'median-mad');
    }
    assert.equal(new Set(signals.map((s) => s.idempotencyKey)).size, signals.length);

    // The client reports a bad expression with the query and what to do.
    await assert.rejects(
      queryRange({ baseUrl: prom.url, query: 'rate(', start: 0, end: 10, stepSec: 1 }),
      (err: Error & { where?: string; fix?: string }) => {
        assert.match(err.message, /query_range failed \(400 bad_data\)/);
        assert.equal(err.where, 'query rate(');
        assert.match(err.fix ?? '', /PromQL/);
        return true;
      },
    );
  });
});
