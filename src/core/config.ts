import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { LifelineError } from './errors.ts';

/**
 * The `lifeline serve` configuration file (YAML). Every field has a default, so an empty
 * file (or no file) gives a working local server: 127.0.0.1:7420, SQLite under
 * `.lifeline/`, a filesystem object store under `.lifeline/objects`.
 */
export const configSchema = z
  .object({
    server: z
      .object({
        /** Address to bind. Default `127.0.0.1`. */
        host: z.string().min(1).default('127.0.0.1'),
        /** TCP port, 0 for a free one. Default `7420`. */
        port: z.number().int().min(0).max(65535).default(7420),
        /**
         * File holding the bearer token `/api/v1` requires (generated, mode 0600, on first start;
         * `LIFELINE_API_TOKEN` overrides it). Default `.lifeline/api-token`.
         */
        apiTokenFile: z.string().min(1).default('.lifeline/api-token'),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 7420, apiTokenFile: '.lifeline/api-token' }),
    store: z
      .discriminatedUnion('driver', [
        z
          .object({ driver: z.literal('sqlite'), path: z.string().min(1).default('.lifeline/lifeline.db') })
          .strict(),
        z.object({ driver: z.literal('postgres'), url: z.string().min(1) }).strict(),
      ])
      .default({ driver: 'sqlite', path: '.lifeline/lifeline.db' }),
    objectStore: z
      .discriminatedUnion('driver', [
        z.object({ driver: z.literal('fs'), root: z.string().min(1).default('.lifeline/objects') }).strict(),
        z
          .object({
            driver: z.literal('s3'),
            bucket: z.string().min(1),
            prefix: z.string().default(''),
            endpoint: z.url().optional(),
            region: z.string().default('us-east-1'),
            forcePathStyle: z.boolean().default(false),
          })
          .strict(),
      ])
      .default({ driver: 'fs', root: '.lifeline/objects' }),
    kube: z
      .object({
        /** Kubeconfig path. Default: `KUBECONFIG`, then `~/.kube/config`, then in-cluster. */
        kubeconfig: z.string().optional(),
        /** Context name. Default: the kubeconfig's current context. */
        context: z.string().optional(),
      })
      .strict()
      .default({}),
    log: z
      .object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

/** A validated configuration with every default applied. */
export type LifelineConfig = z.infer<typeof configSchema>;

/** Fix hints per field path, shown when the field is wrong. */
const FIELD_HINTS: Record<string, string> = {
  'server.port': 'set server.port to an integer between 0 and 65535, e.g. `port: 7420`',
  'server.host': 'set server.host to an address to bind, e.g. `host: 127.0.0.1`',
  'store.driver': 'set store.driver to `sqlite` (with `path`) or `postgres` (with `url`)',
  'objectStore.driver': 'set objectStore.driver to `fs` (with `root`) or `s3` (with `bucket`)',
};

function pathOf(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join('.');
}

/** Validates a parsed document; `source` names it in errors (a file path or `<inline>`). */
export function parseConfig(doc: unknown, source: string): LifelineConfig {
  const result = configSchema.safeParse(doc ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new LifelineError('config.invalid', `invalid configuration in ${source}`);
  const field = pathOf(issue) || '(root)';
  let fix = FIELD_HINTS[field];
  if (fix === undefined) {
    fix =
      issue.code === 'unrecognized_keys'
        ? `remove the unknown key(s) ${issue.keys.map((k) => `\`${k}\``).join(', ')} or check their spelling`
        : `correct ${field}: ${issue.message}`;
  }
  const count = result.error.issues.length;
  const more = count > 1 ? ` (and ${count - 1} more problem${count > 2 ? 's' : ''})` : '';
  throw new LifelineError('config.invalid', `invalid configuration: ${field}: ${issue.message}${more}`, {
    where: `${source}: field ${field}`,
    fix,
  });
}

/** Reads, parses and validates a YAML config file. Errors name the file, the field and the fix. */
export async function loadConfigFile(file: string): Promise<LifelineConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new LifelineError('config.unreadable', `cannot read configuration file ${file}`, {
      where: file,
      fix: 'check the path passed to --config exists and is readable',
      cause: err,
    });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const line = err instanceof YAMLParseError && err.linePos !== undefined ? `:${err.linePos[0].line}` : '';
    throw new LifelineError(
      'config.yaml',
      `configuration file is not valid YAML: ${(err as Error).message}`,
      {
        where: `${file}${line}`,
        fix: 'fix the YAML syntax at that line',
        cause: err,
      },
    );
  }
  return parseConfig(doc, file);
}
