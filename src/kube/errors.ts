import { ApiException } from '@kubernetes/client-node';
import { LifelineError, errorMessage } from '../core/errors.ts';

/** The parts of a Kubernetes `Status` body that Lifeline reads. */
export interface KubeStatus {
  /** HTTP status code (`code` in the body, or the response status). */
  code: number;
  /** Machine reason, e.g. `NotFound`, `Conflict`, `TooManyRequests`, `Expired`, `Gone`. */
  reason: string | undefined;
  /** Human message from the apiserver. */
  message: string;
  /** `details.causes`: for apply conflicts and PDB refusals these name fields and budgets. */
  causes: { reason?: string; message?: string; field?: string }[];
  /** `details.retryAfterSeconds` or the `Retry-After` header, when the server sent one. */
  retryAfterSeconds: number | undefined;
}

/**
 * An error answer from the Kubernetes API (any non-2xx), with the parsed `Status`.
 * `code` is `kube.<reason>` (e.g. `kube.conflict`), `status.code` the HTTP status.
 */
export class KubeApiError extends LifelineError {
  readonly status: KubeStatus;
  constructor(
    what: string,
    status: KubeStatus,
    opts: { where?: string; fix?: string; cause?: unknown } = {},
  ) {
    super(`kube.${(status.reason ?? `http${status.code}`).toLowerCase()}`, `${what}: ${status.message}`, {
      where: opts.where,
      fix: opts.fix ?? defaultFix(status.code),
      cause: opts.cause,
    });
    this.name = 'KubeApiError';
    this.status = status;
  }
}

function defaultFix(code: number): string | undefined {
  switch (code) {
    case 401:
      return 'check the credentials in the kubeconfig (token or client certificate)';
    case 403:
      return 'grant the Lifeline identity the missing RBAC permission';
    case 404:
      return 'check the name, namespace and that the resource type is served by this cluster';
    case 409:
      return 'read the object again and retry, or resolve the conflicting field owner';
    case 429:
      return 'retry later (the server asked to back off)';
    default:
      return code >= 500 ? 'check the apiserver and the aggregated API backing this resource' : undefined;
  }
}

/** Parses a Kubernetes `Status` out of a response body (string or object) and headers. */
export function parseStatus(
  httpCode: number,
  body: unknown,
  headers: Record<string, unknown> = {},
): KubeStatus {
  let obj: unknown = body;
  if (typeof body === 'string') {
    try {
      obj = JSON.parse(body) as unknown;
    } catch {
      obj = { message: body.trim() === '' ? `HTTP ${httpCode}` : body.trim().slice(0, 500) };
    }
  }
  const rec = (typeof obj === 'object' && obj !== null ? obj : {}) as {
    code?: unknown;
    reason?: unknown;
    message?: unknown;
    details?: { causes?: unknown; retryAfterSeconds?: unknown };
  };
  const headerRetry = headerValue(headers, 'retry-after');
  const bodyRetry = rec.details?.retryAfterSeconds;
  const retryAfterSeconds =
    typeof bodyRetry === 'number' && bodyRetry > 0
      ? bodyRetry
      : headerRetry !== undefined && /^\d+$/.test(headerRetry)
        ? Number(headerRetry)
        : undefined;
  return {
    code: typeof rec.code === 'number' && rec.code > 0 ? rec.code : httpCode,
    reason: typeof rec.reason === 'string' && rec.reason !== '' ? rec.reason : undefined,
    message: typeof rec.message === 'string' && rec.message !== '' ? rec.message : `HTTP ${httpCode}`,
    causes: Array.isArray(rec.details?.causes) ? (rec.details.causes as KubeStatus['causes']) : [],
    retryAfterSeconds,
  };
}

function headerValue(headers: Record<string, unknown>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name) continue;
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  }
  return undefined;
}

/**
 * The Kubernetes status of an error thrown by a typed client (`ApiException`), by {@link kubeRequest}
 * (`KubeApiError`) or by a watch (`statusCode`); `undefined` for transport errors (refused, reset, TLS).
 */
export function statusOf(err: unknown): KubeStatus | undefined {
  if (err instanceof KubeApiError) return err.status;
  if (err instanceof ApiException) {
    const e = err as ApiException<unknown>;
    return parseStatus(e.code, e.body, e.headers);
  }
  if (typeof err === 'object' && err !== null) {
    const code = (err as { statusCode?: unknown }).statusCode;
    if (typeof code === 'number') return parseStatus(code, { message: errorMessage(err) });
  }
  return undefined;
}

/** The HTTP status of a Kubernetes API error, or `undefined` for transport errors. */
export function statusCodeOf(err: unknown): number | undefined {
  return statusOf(err)?.code;
}

/** Wraps any error from a Kubernetes call into a {@link LifelineError} naming the object. */
export function toKubeError(what: string, where: string, err: unknown): LifelineError {
  if (err instanceof LifelineError) return err;
  const status = statusOf(err);
  if (status !== undefined) return new KubeApiError(what, status, { where, cause: err });
  return new LifelineError('kube.unreachable', `${what}: ${errorMessage(err)}`, {
    where,
    fix: 'check that the apiserver in the kubeconfig is running and reachable',
    cause: err,
  });
}
