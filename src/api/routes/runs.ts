import { Hono } from 'hono';
import { z } from 'zod';
import { LifelineError } from '../../core/errors.ts';
import type { RunStatus, Store } from '../../store/index.ts';
import { decideApproval, describeRun } from '../../workflow/index.ts';

const RUN_STATUSES = [
  'pending',
  'running',
  'compensating',
  'succeeded',
  'failed',
] as const satisfies readonly RunStatus[];

const listQuery = z
  .object({
    status: z.enum(RUN_STATUSES).optional(),
    workflow: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

const decisionBody = z
  .object({
    decision: z.enum(['approve', 'deny']),
    by: z.string().min(1).max(200),
    reason: z.string().max(2000).optional(),
  })
  .strict();

function badRequest(where: string, issue: z.core.$ZodIssue | undefined, fix: string): LifelineError {
  const field = issue?.path.map(String).join('.') ?? '';
  return new LifelineError(
    'api.bad-request',
    `invalid ${where}${field === '' ? '' : ` field ${field}`}: ${issue?.message ?? 'invalid'}`,
    { where: field === '' ? where : `${where}.${field}`, fix },
  );
}

/**
 * `/api/v1/runs`: list (`?status=&workflow=&limit=`, default limit 100), describe (`/:id`), and
 * decide an approval gate (`POST /:id/approvals/:step` with `{decision: approve|deny, by, reason?}`).
 */
export function runsRoutes(store: Store): Hono {
  const app = new Hono();

  app.get('/', async (c) => {
    const parsed = listQuery.safeParse(c.req.query());
    if (!parsed.success) {
      throw badRequest(
        'query',
        parsed.error.issues[0],
        `use status=${RUN_STATUSES.join('|')}, workflow=<name>, limit=1..1000`,
      );
    }
    const q = parsed.data;
    const runs = await store.listRuns({
      limit: q.limit,
      ...(q.status === undefined ? {} : { status: [q.status] }),
      ...(q.workflow === undefined ? {} : { workflow: q.workflow }),
    });
    return c.json(runs);
  });

  app.get('/:id', async (c) => c.json(await describeRun(store, c.req.param('id'))));

  app.post('/:id/approvals/:step', async (c) => {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw new LifelineError('api.bad-request', 'the request body is not JSON', {
        where: 'body',
        fix: 'send `{"decision":"approve","by":"<who>"}` with content-type application/json',
      });
    }
    const parsed = decisionBody.safeParse(raw);
    if (!parsed.success) {
      throw badRequest(
        'body',
        parsed.error.issues[0],
        'send `{"decision":"approve"|"deny","by":"<who>","reason":"<why>"}`',
      );
    }
    const approval = await decideApproval(store, {
      runId: c.req.param('id'),
      step: c.req.param('step'),
      decision: parsed.data.decision === 'approve' ? 'approved' : 'denied',
      by: parsed.data.by,
      ...(parsed.data.reason === undefined ? {} : { reason: parsed.data.reason }),
    });
    return c.json(approval);
  });

  return app;
}
