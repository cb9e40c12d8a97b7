import type { ErrorInfo, JournalEntry, JsonValue } from '../store/index.ts';

/** What happened in a run. Observers get all of them; all but `step.progress` are persisted. */
export type WorkflowEventType =
  | 'run.started'
  | 'run.resumed'
  | 'run.succeeded'
  | 'run.failed'
  | 'run.lease-lost'
  | 'run.interrupted'
  | 'step.skipped'
  | 'step.waiting-approval'
  | 'step.started'
  | 'step.progress'
  | 'step.completed'
  | 'step.failed'
  | 'compensation.started'
  | 'step.compensating'
  | 'step.compensated'
  | 'step.compensation-failed'
  | 'approval.approved'
  | 'approval.denied'
  | 'approval.expired';

/** A progress/status event of a workflow run. Optional fields appear where they apply. */
export interface WorkflowEvent {
  type: WorkflowEventType;
  runId: string;
  workflow: string;
  /** Epoch ms. */
  at: number;
  step?: string;
  attempt?: number;
  /** Step names in order (on run.started / run.resumed), for renderers. */
  steps?: string[];
  message?: string;
  /** 0..1 on step.progress when the step knows it. */
  fraction?: number;
  error?: ErrorInfo;
  /** On step.failed when another attempt follows. */
  retryInMs?: number;
  /** On step.waiting-approval: when the gate expires. */
  expiresAt?: number;
  /** Who decided an approval. */
  by?: string;
  /** Lease fencing ticket (run.started / run.resumed). */
  ticket?: number;
  owner?: string;
}

/** A subscriber to workflow events. Exceptions it throws are ignored. */
export type WorkflowListener = (event: WorkflowEvent) => void;

/** The persisted part of an event (everything except type, run id, workflow and time). */
export function eventData(event: WorkflowEvent): JsonValue {
  const { type: _type, runId: _runId, workflow: _workflow, at: _at, ...rest } = event;
  return JSON.parse(JSON.stringify(rest)) as JsonValue;
}

/** Rebuilds an event from a run's journal entry. */
export function eventFromJournal(entry: JournalEntry, runId: string, workflow: string): WorkflowEvent {
  const data =
    entry.data !== null && typeof entry.data === 'object' && !Array.isArray(entry.data) ? entry.data : {};
  return {
    ...(data as Partial<WorkflowEvent>),
    type: entry.type as WorkflowEventType,
    runId,
    workflow,
    at: entry.at,
  };
}

/** Fan-out of events to listeners. */
export class EventHub {
  readonly #listeners = new Set<WorkflowListener>();

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: WorkflowListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: WorkflowEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // an observer's bug must not break a run
      }
    }
  }
}
