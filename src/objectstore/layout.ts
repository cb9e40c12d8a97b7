import { createHash } from 'node:crypto';
import { InvalidKeyError } from './errors.ts';
import { assertValidKey } from './keys.ts';

/**
 * Every object key Lifeline uses, in one place (after Velero's `object_store_layout.go`). Other
 * modules never concatenate keys themselves; they call these functions, which validate each
 * name, so a bad name fails here with an error instead of writing somewhere unexpected.
 *
 * ```
 * lifeline.json                                  store format marker
 * backups/<backup>/manifest.json                 backup manifest (written last: the commit point)
 * backups/<backup>/segments/<000001>.seg         archive segments (compressed, encrypted)
 * backups/<backup>/resources.json.gz             resource list
 * backups/<backup>/log.jsonl.gz                  backup log
 * backups/<backup>/lock                          put-if-absent claim of the name
 * restores/<restore>/plan.json                   restore plan
 * restores/<restore>/results.json.gz             restore results
 * restores/<restore>/log.jsonl.gz                restore log
 * workflows/<run>/<step>/<artifact>              workflow step artifacts
 * models/<detector>/<series>.json                anomaly models (series name escaped)
 * models/<detector>/<hash>.json                  anomaly model state under a free-text key (hashed)
 * drills/<drill>/evidence.json                   DR drill evidence (RTO/RPO)
 * ```
 */

/**
 * A name used as one key segment (backup, restore, run, step, detector, drill, artifact):
 * 1–253 characters of `[A-Za-z0-9._-]`, starting with a letter or digit. Kubernetes object names
 * and generated ids fit.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

function name(kind: string, value: string): string {
  if (!NAME.test(value) || value.includes('..')) {
    throw new InvalidKeyError(
      value,
      `${kind} name must be 1-253 characters of letters, digits, ".", "_" or "-", start with a letter or digit, and not contain ".."`,
    );
  }
  return value;
}

function key(...segments: string[]): string {
  const k = segments.join('/');
  assertValidKey(k);
  return k;
}

/**
 * Escapes a free-form name (e.g. a Prometheus series `up{job="api"}`) into one key segment:
 * percent-encoding as `encodeURIComponent`, plus a leading `.` as `%2E`. Reversible with
 * {@link decodeSegment}.
 */
export function encodeSegment(value: string): string {
  if (value === '') throw new InvalidKeyError(value, 'empty name');
  const encoded = encodeURIComponent(value);
  return encoded.startsWith('.') ? `%2E${encoded.slice(1)}` : encoded;
}

/** The inverse of {@link encodeSegment}. */
export function decodeSegment(segment: string): string {
  return decodeURIComponent(segment);
}

/** Width of a zero-padded segment number, so segments list in order. */
const SEGMENT_DIGITS = 6;

/** Key builders. Folder helpers end with `/` and suit `list`/`listFolders`. */
export const layout = {
  /** Marker object that records the store's layout version. */
  formatMarker: (): string => 'lifeline.json',

  backupsFolder: (): string => 'backups/',
  backupFolder: (backup: string): string => `${key('backups', name('backup', backup))}/`,
  backupManifest: (backup: string): string => key('backups', name('backup', backup), 'manifest.json'),
  backupSegment: (backup: string, index: number): string => {
    if (!Number.isSafeInteger(index) || index < 1 || index >= 10 ** SEGMENT_DIGITS) {
      throw new InvalidKeyError(
        String(index),
        `segment index must be an integer from 1 to ${10 ** SEGMENT_DIGITS - 1}`,
      );
    }
    return key(
      'backups',
      name('backup', backup),
      'segments',
      `${String(index).padStart(SEGMENT_DIGITS, '0')}.seg`,
    );
  },
  backupSegmentsFolder: (backup: string): string => `${key('backups', name('backup', backup), 'segments')}/`,
  backupResourceList: (backup: string): string => key('backups', name('backup', backup), 'resources.json.gz'),
  backupLog: (backup: string): string => key('backups', name('backup', backup), 'log.jsonl.gz'),
  backupLock: (backup: string): string => key('backups', name('backup', backup), 'lock'),

  restoresFolder: (): string => 'restores/',
  restoreFolder: (restore: string): string => `${key('restores', name('restore', restore))}/`,
  restorePlan: (restore: string): string => key('restores', name('restore', restore), 'plan.json'),
  restoreResults: (restore: string): string => key('restores', name('restore', restore), 'results.json.gz'),
  restoreLog: (restore: string): string => key('restores', name('restore', restore), 'log.jsonl.gz'),

  workflowRunFolder: (run: string): string => `${key('workflows', name('run', run))}/`,
  workflowArtifact: (run: string, step: string, artifact: string): string =>
    key('workflows', name('run', run), name('step', step), name('artifact', artifact)),

  anomalyModelsFolder: (detector: string): string => `${key('models', name('detector', detector))}/`,
  anomalyModel: (detector: string, series: string): string =>
    key('models', name('detector', detector), `${encodeSegment(series)}.json`),
  /**
   * Fixed-length form of {@link layout.anomalyModel} for free-text keys of any length (a query
   * name plus a label set can outgrow the 1024-byte key limit once escaped): the first 32 hex
   * digits of the key's SHA-256. Not reversible; store the key inside the object.
   */
  anomalyModelHashed: (detector: string, modelKey: string): string =>
    key(
      'models',
      name('detector', detector),
      `${createHash('sha256').update(modelKey).digest('hex').slice(0, 32)}.json`,
    ),

  drillEvidence: (drill: string): string => key('drills', name('drill', drill), 'evidence.json'),
} as const;

/** The backup name in a key under `backups/`, or undefined. Inverse of the backup builders. */
export function backupNameOf(objectKey: string): string | undefined {
  const m = /^backups\/([^/]+)\//.exec(objectKey);
  return m?.[1];
}
