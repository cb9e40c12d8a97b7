import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MiddlewareHandler } from 'hono';
import { LifelineError } from '../core/errors.ts';

/**
 * The API bearer token: `LIFELINE_API_TOKEN` when set, else the content of `tokenFile`,
 * generated (32 random bytes, hex, mode 0600) on first start. The token itself is never logged.
 */
export async function loadOrCreateApiToken(
  tokenFile: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const fromEnv = env['LIFELINE_API_TOKEN'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  try {
    const token = (await readFile(tokenFile, 'utf8')).trim();
    if (token.length >= 16) return token;
    throw new LifelineError('api.token', `API token in ${tokenFile} is shorter than 16 characters`, {
      where: tokenFile,
      fix: 'delete the file to have a new token generated, or write a longer one',
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('hex');
  await mkdir(dirname(tokenFile), { recursive: true });
  try {
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return (await readFile(tokenFile, 'utf8')).trim();
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Hono middleware: requires `Authorization: Bearer <token>`; 401 with a JSON problem otherwise. */
export function bearerAuth(token: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (m?.[1] === undefined || !sameToken(m[1], token)) {
      return c.json(
        {
          code: 'api.unauthorized',
          message: 'missing or wrong bearer token',
          where: 'Authorization header',
          fix: 'send `Authorization: Bearer <token>`; the token is in server.apiTokenFile or LIFELINE_API_TOKEN',
        },
        401,
        { 'www-authenticate': 'Bearer' },
      );
    }
    await next();
  };
}
