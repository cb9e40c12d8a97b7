import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { AddressInfo } from 'node:net';
import { waitFor } from '../../src/core/clock.ts';
import { startAlertmanager } from '../../src/sandbox/alertmanager.ts';
import { startPrometheus } from '../../src/sandbox/prometheus.ts';

const dir = await mkdtemp(join(tmpdir(), 'lifeline-prom-'));
after(() => rm(dir, { recursive: true, force: true }));

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let b = '';
    req.on('data', (c: Buffer) => (b += c.toString()));
    req.on('end', () => {
      resolve(b);
    });
  });
}

/** A server on 127.0.0.1 that serves /metrics and records webhook posts. */
async function testServer(): Promise<{
  port: number;
  received: { auth: string; body: unknown }[];
  close(): Promise<void>;
}> {
  const received: { auth: string; body: unknown }[] = [];
  let queueDepth = 0;
  const srv = createServer((req, res) => {
    if (req.url === '/metrics') {
      queueDepth += 1;
      res.end(`# TYPE demo_queue_depth gauge\ndemo_queue_depth ${queueDepth}\n`);
      return;
    }
    void body(req).then((b) => {
      received.push({ auth: req.headers.authorization ?? '', body: JSON.parse(b) as unknown });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    received,
    close: () =>
      new Promise((r) => {
        srv.close(() => {
          r();
        });
      }),
  };
}

describe('sandbox Prometheus and Alertmanager', () => {
  it('scrapes a loopback target, fires a rule, and Alertmanager delivers it to the webhook with its token', async () => {
    const server = await testServer();
    const am = await startAlertmanager({
      webhookUrl: `http://127.0.0.1:${server.port}/hook`,
      webhookToken: 'test-token',
      logDir: dir,
    });
    const prom = await startPrometheus({
      scrapeTargets: [`127.0.0.1:${server.port}`],
      logDir: dir,
      alertmanager: am.address,
      rules: [{ alert: 'QueueGrowing', expr: 'demo_queue_depth > 2', labels: { severity: 'warning' } }],
    });
    try {
      const value = await waitFor(
        'a scraped sample',
        async () => {
          const r = (await (await fetch(`${prom.url}/api/v1/query?query=demo_queue_depth`)).json()) as {
            data: { result: { value: [number, string] }[] };
          };
          return r.data.result[0]?.value[1];
        },
        { timeoutMs: 20_000 },
      );
      assert.ok(Number(value) >= 1);
      const hook = await waitFor('the alert at the webhook', () => server.received[0], { timeoutMs: 40_000 });
      assert.equal(hook.auth, 'Bearer test-token');
      const payload = hook.body as {
        alerts: ({ labels: Record<string, string>; status: string } | undefined)[];
      };
      assert.equal(payload.alerts[0]?.labels['alertname'], 'QueueGrowing');
      assert.equal(payload.alerts[0].status, 'firing');
    } finally {
      await prom.stop();
      await am.stop();
      await server.close();
    }
  });

  it('refuses a scrape target off loopback', async () => {
    await assert.rejects(
      startPrometheus({ scrapeTargets: ['10.0.0.1:9090'], logDir: dir }),
      /not on loopback/,
    );
  });
});
