import { randomBytes } from 'node:crypto';

/**
 * A sortable, URL-safe id: 12 hex chars of milliseconds since epoch + 10 random hex chars,
 * with an optional prefix (`run-0192f0a1b2c3-9f1e2d3c4b`).
 */
export function newId(prefix?: string): string {
  const ts = Date.now().toString(16).padStart(12, '0');
  const rnd = randomBytes(5).toString('hex');
  return prefix === undefined ? `${ts}-${rnd}` : `${prefix}-${ts}-${rnd}`;
}
