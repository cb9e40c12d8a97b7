import { Hono } from 'hono';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { LifelineError, type Logger } from '../core/index.ts';

/** A named readiness check; the server is ready when every check resolves true. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean>;
}

/** Dependencies of the HTTP app. */
export interface AppDeps {
  logger: Logger;
  /** Metrics registry served at /metrics. Default: a new registry with Node process metrics. */
  registry?: Registry;
  /** Readiness checks for /readyz. Default: none (ready once listening). */
  readiness?: readonly ReadinessCheck[];
}

/** Creates a metrics registry with default process metrics under the `lifeline_` prefix. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lifeline_' });
  return registry;
}

/** Builds the hono app: /healthz, /readyz, /metrics; later modules mount routes under /api/v1. */
export function createApp(deps: AppDeps): { app: Hono; registry: Registry } {
  const registry = deps.registry ?? createRegistry();
  const app = new Hono();

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    deps.logger.debug(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  });

  app.get('/healthz', (c) => c.text('ok'));

  app.get('/readyz', async (c) => {
    const results = await Promise.all(
      (deps.readiness ?? []).map(async (r) => {
        try {
          return { name: r.name, ok: await r.check() };
        } catch {
          return { name: r.name, ok: false };
        }
      }),
    );
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0) return c.json({ ready: false, failed: failed.map((f) => f.name) }, 503);
    return c.json({ ready: true });
  });

  app.get('/metrics', async (c) => {
    const body = await registry.metrics();
    return c.body(body, 200, { 'content-type': registry.contentType });
  });

  app.onError((err, c) => {
    if (err instanceof LifelineError) {
      const status = httpStatusOf(err.code);
      if (status >= 500) deps.logger.error({ err, path: c.req.path }, 'request failed');
      return c.json(err.toJSON(), status);
    }
    deps.logger.error({ err, path: c.req.path }, 'request failed');
    return c.json({ code: 'internal', message: 'internal error' }, 500);
  });

  return { app, registry };
}

/** HTTP status for a LifelineError code: bad input 400, missing 404, state conflicts 409, else 500. */
export function httpStatusOf(code: string): 400 | 404 | 409 | 500 {
  if (code.endsWith('.bad-request') || code.endsWith('.invalid')) return 400;
  if (code.endsWith('.not-found') || code.endsWith('.no-approval')) return 404;
  if (code.endsWith('.already-decided') || code.endsWith('-expired') || code.endsWith('.conflict'))
    return 409;
  return 500;
}
