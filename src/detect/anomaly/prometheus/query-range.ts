import { LifelineError, errorMessage } from '../../../core/errors.ts';

/** One series returned by a range query: its labels and (unix seconds, value) points in order. */
export interface RangeSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly points: readonly (readonly [number, number])[];
}

/** Arguments of {@link queryRange}. */
export interface QueryRangeRequest {
  /** Prometheus base URL, e.g. `http://127.0.0.1:9090`. */
  readonly baseUrl: string;
  /** PromQL expression. */
  readonly query: string;
  /** Unix seconds, inclusive. */
  readonly start: number;
  /** Unix seconds, inclusive. */
  readonly end: number;
  /** Resolution in seconds. */
  readonly stepSec: number;
  /** Request timeout in milliseconds. Default 10000. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

interface ApiResponse {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: { metric?: Record<string, string>; values?: [number, string][] }[] };
}

/**
 * Calls Prometheus `GET /api/v1/query_range` and returns its matrix. Non-numeric samples (NaN,
 * ±Inf) are dropped. Errors name the query and the server, and say what to check.
 */
export async function queryRange(req: QueryRangeRequest): Promise<RangeSeries[]> {
  const url = new URL('/api/v1/query_range', req.baseUrl);
  url.searchParams.set('query', req.query);
  url.searchParams.set('start', String(req.start));
  url.searchParams.set('end', String(req.end));
  url.searchParams.set('step', String(req.stepSec));
  const timeout = AbortSignal.timeout(req.timeoutMs ?? 10_000);
  const signal = req.signal === undefined ? timeout : AbortSignal.any([timeout, req.signal]);
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (err) {
    throw new LifelineError('prometheus.unreachable', `cannot reach Prometheus: ${errorMessage(err)}`, {
      where: req.baseUrl,
      fix: 'check --prometheus (URL and port) and that Prometheus is running',
      cause: err,
    });
  }
  let body: ApiResponse;
  try {
    body = (await res.json()) as ApiResponse;
  } catch (err) {
    throw new LifelineError(
      'prometheus.response',
      `Prometheus answered ${res.status} with a body that is not JSON`,
      {
        where: `${req.baseUrl} query_range`,
        fix: 'check that --prometheus points at a Prometheus server, not a proxy or another service',
        cause: err,
      },
    );
  }
  if (!res.ok || body.status !== 'success') {
    throw new LifelineError(
      'prometheus.query',
      `query_range failed (${res.status} ${body.errorType ?? ''}): ${body.error ?? 'no error message'}`,
      { where: `query ${req.query}`, fix: 'check the PromQL expression (try it in the Prometheus UI)' },
    );
  }
  if (body.data?.resultType !== 'matrix') {
    throw new LifelineError(
      'prometheus.query',
      `query_range returned ${body.data?.resultType ?? 'nothing'}`,
      {
        where: `query ${req.query}`,
        fix: 'use an expression that returns an instant vector (range queries turn it into a matrix)',
      },
    );
  }
  return (body.data.result ?? []).map((r) => ({
    labels: r.metric ?? {},
    points: (r.values ?? []).map(([t, v]) => [t, Number(v)] as const).filter(([, v]) => Number.isFinite(v)),
  }));
}

/** A stable text key for a label set: `{a="1",b="2"}` with names sorted. */
export function seriesKey(labels: Readonly<Record<string, string>>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `{${parts.join(',')}}`;
}
