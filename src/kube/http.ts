import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { LifelineError } from '../core/errors.ts';
import { KubeApiError, parseStatus } from './errors.ts';

/** One raw request to the Kubernetes API (discovery, paged lists: paths no typed client covers). */
export interface KubeRequest {
  /** HTTP method. Default: `GET`. */
  method?: string;
  /** Absolute API path, e.g. `/apis/apps/v1`. */
  path: string;
  /** Query parameters; `undefined` values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Request body; objects are sent as JSON. */
  body?: unknown;
  /** Content-Type of the body. Default: `application/json`. */
  contentType?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Aborts the request. */
  signal?: AbortSignal;
  /** Fails the request when no answer arrives in time. Default: 30 000 ms. */
  timeoutMs?: number;
}

/** A raw API answer (2xx only; anything else throws {@link KubeApiError}). */
export interface KubeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * Sends one request with the kubeconfig's server, CA, client certificate and token, and returns the
 * body as text. Non-2xx answers throw {@link KubeApiError} (with the parsed `Status`); transport
 * failures throw the socket error.
 */
export async function kubeRequest(kc: KubeConfig, req: KubeRequest): Promise<KubeResponse> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw new LifelineError('kube.no-cluster', 'the kubeconfig has no current cluster', {
      where: `context ${kc.getCurrentContext()}`,
      fix: 'select a context that names a cluster (--context) or fix the kubeconfig',
    });
  }
  const url = new URL(cluster.server.replace(/\/$/, '') + req.path);
  for (const [k, v] of Object.entries(req.query ?? {}))
    if (v !== undefined) url.searchParams.set(k, String(v));
  const opts: RequestOptions = { method: req.method ?? 'GET', headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const headers = opts.headers as Record<string, string>;
  headers['accept'] = 'application/json';
  Object.assign(headers, req.headers ?? {});
  let payload: string | undefined;
  if (req.body !== undefined) {
    payload = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    headers['content-type'] = req.contentType ?? 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  if (opts.auth !== undefined && opts.auth !== null) {
    headers['authorization'] = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    delete opts.auth;
  }
  const timeoutMs = req.timeoutMs ?? 30_000;
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  const what = `${req.method ?? 'GET'} ${req.path}`;
  return new Promise<KubeResponse>((resolve, reject) => {
    const timer = setTimeout(() => {
      r.destroy(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const fail = (err: Error): void => {
      settle(() => {
        reject(err);
      });
    };
    const r = send(url, { ...opts, ...(req.signal === undefined ? {} : { signal: req.signal }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(new Error(`${what}: connection closed before the response ended`));
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          settle(() => {
            resolve({ status, headers: res.headers, text });
          });
          return;
        }
        fail(
          new KubeApiError(`${what} failed`, parseStatus(status, text, res.headers), { where: url.pathname }),
        );
      });
    });
    r.on('error', fail);
    r.end(payload);
  });
}

/** {@link kubeRequest} and JSON-parse the body. */
export async function kubeGetJson<T>(kc: KubeConfig, req: KubeRequest): Promise<T> {
  const res = await kubeRequest(kc, req);
  return JSON.parse(res.text) as T;
}
