import type { Generated } from 'kysely';

/** Row shapes of the Store's tables (times in ms since epoch; JSON as text). */
export interface RunsTable {
  id: string;
  workflow: string;
  status: string;
  input: string;
  output: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  lease_owner: string | null;
  lease_ticket: number;
  lease_expires_at: number | null;
}

/** `workflow_steps`: one row per step of a run (the memo). */
export interface StepsTable {
  run_id: string;
  name: string;
  idx: number;
  status: string;
  attempts: number;
  failures: number;
  output: string | null;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

/** `workflow_approvals`: approval gates. */
export interface ApprovalsTable {
  run_id: string;
  step: string;
  status: string;
  summary: string | null;
  requested_at: number;
  expires_at: number;
  decided_at: number | null;
  decided_by: string | null;
  reason: string | null;
}

/** `journal`: append-only event streams. */
export interface JournalTable {
  seq: Generated<number>;
  stream: string;
  type: string;
  at: number;
  data: string;
}

/** `kv_entries`: the key-value area. */
export interface KvTable {
  namespace: string;
  key: string;
  value: string;
  version: number;
  updated_at: number;
  expires_at: number | null;
}

/** The Store's database as kysely sees it. */
export interface Database {
  workflow_runs: RunsTable;
  workflow_steps: StepsTable;
  workflow_approvals: ApprovalsTable;
  journal: JournalTable;
  kv_entries: KvTable;
}
