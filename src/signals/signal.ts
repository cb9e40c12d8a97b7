/**
 * The one envelope every signal source produces (Kubernetes watches, Alertmanager, Prometheus,
 * the anomaly detector) and the self-healing engine consumes.
 */
export interface Signal {
  /** Which source produced it, e.g. `anomaly`, `alertmanager`, `kube`. */
  readonly source: string;
  /** What it is about. Kubernetes objects fill group/version/kind/namespace/name; metric series fill `series`. */
  readonly subject: SignalSubject;
  /** When the condition was observed (ISO-8601, UTC). */
  readonly observedAt: string;
  /** A short machine-readable reason, e.g. `anomaly.level`. */
  readonly reason: string;
  /** Source-specific facts that support the signal (scores, values, thresholds, queries). */
  readonly evidence: Readonly<Record<string, unknown>>;
  /** How sure the source is, in [0, 1]. */
  readonly confidence: number;
  /** Same condition, same key: consumers drop duplicates by it. */
  readonly idempotencyKey: string;
}

/** The object or series a signal is about. */
export interface SignalSubject {
  readonly group?: string;
  readonly version?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  /** Metric series labels, for metric-derived signals. */
  readonly series?: Readonly<Record<string, string>>;
}

/** Where signals go: the engine's intake, a JSON-lines file, a test's array. */
export type SignalSink = (signal: Signal) => void | Promise<void>;

/** A sink that writes one JSON object per line to a writable (e.g. process.stdout). */
export function jsonLinesSink(out: { write(chunk: string): unknown }): SignalSink {
  return (signal) => {
    out.write(`${JSON.stringify(signal)}\n`);
  };
}
