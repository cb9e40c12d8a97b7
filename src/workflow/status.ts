import { LifelineError } from '../core/errors.ts';
import {
  runStream,
  type ApprovalDecision,
  type ApprovalRecord,
  type RunRecord,
  type StepRecord,
  type Store,
} from '../store/index.ts';
import { eventFromJournal, type WorkflowEvent } from './events.ts';

/** Everything known about one run: for `runs describe` and the API. */
export interface RunDescription {
  run: RunRecord;
  steps: StepRecord[];
  approvals: ApprovalRecord[];
  /** The run's event log, in order. */
  events: WorkflowEvent[];
}

function notFound(runId: string, store: Store): LifelineError {
  return new LifelineError('runs.not-found', `run ${runId} does not exist`, {
    where: `${store.driver} store`,
    fix: 'list the runs with `lifeline runs list` (and check --store points at the right store)',
  });
}

/** Reads a run with its steps, approvals and full event log. */
export async function describeRun(store: Store, runId: string): Promise<RunDescription> {
  const run = await store.getRun(runId);
  if (run === undefined) throw notFound(runId, store);
  const [steps, approvals] = await Promise.all([store.listSteps(runId), store.listApprovals({ runId })]);
  const events: WorkflowEvent[] = [];
  for (let afterSeq = 0; ;) {
    const page = await store.read(runStream(runId), { afterSeq, limit: 1000 });
    events.push(...page.map((e) => eventFromJournal(e, runId, run.workflow)));
    const last = page[page.length - 1];
    if (last === undefined || page.length < 1000) break;
    afterSeq = last.seq;
  }
  return { run, steps, approvals, events };
}

/**
 * Approves or denies a step's gate (CLI, API). Errors say why it cannot be decided: no such
 * run, no open gate on that step, gate expired, or already decided.
 */
export async function decideApproval(
  store: Store,
  req: { runId: string; step: string; decision: ApprovalDecision; by: string; reason?: string },
): Promise<ApprovalRecord> {
  const result = await store.decideApproval(req);
  const where = `run ${req.runId}, step ${req.step}`;
  switch (result.outcome) {
    case 'decided':
      return result.approval;
    case 'not-found': {
      if ((await store.getRun(req.runId)) === undefined) throw notFound(req.runId, store);
      const open = (await store.listApprovals({ runId: req.runId, status: 'pending' })).map((a) => a.step);
      throw new LifelineError(
        'runs.no-approval',
        `step ${req.step} of run ${req.runId} has no approval gate open`,
        {
          where,
          fix:
            open.length === 0
              ? 'the run is not waiting for an approval; see `lifeline runs describe <id>`'
              : `steps waiting for a decision: ${open.join(', ')}`,
        },
      );
    }
    case 'expired':
      throw new LifelineError('runs.approval-expired', `the approval gate of step ${req.step} expired`, {
        where,
        fix: 'the step has failed (or will fail) for want of approval; start a new run',
      });
    case 'already-decided':
      throw new LifelineError(
        'runs.already-decided',
        `step ${req.step} was already ${result.approval.status} by ${result.approval.decidedBy ?? 'someone'}`,
        { where, fix: 'nothing to do: a decision cannot be changed' },
      );
  }
}
