import { request } from 'node:https';
import { request as httpRequest } from 'node:http';

/** A minimal HTTP(S) GET used for readiness probes (no client library needed before the cluster is up). */
export function probe(
  url: string,
  opts: { ca?: string | Buffer; token?: string; timeoutMs?: number; insecureSkipVerify?: boolean } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string> = {};
    if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
    const req = (u.protocol === 'https:' ? request : httpRequest)(
      u,
      {
        method: 'GET',
        headers,
        ...(opts.ca === undefined ? {} : { ca: opts.ca }),
        // Only for health probes of loopback components that serve an in-memory self-signed cert.
        ...(opts.insecureSkipVerify === true ? { rejectUnauthorized: false } : {}),
        timeout: opts.timeoutMs ?? 3000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
