import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino redacts in every log line: secrets are never logged.
 * Covers auth headers, tokens, passwords, and Kubernetes Secret `data`/`stringData`.
 */
export const REDACT_PATHS: readonly string[] = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'token',
  '*.token',
  'password',
  '*.password',
  'secretAccessKey',
  '*.secretAccessKey',
  'data',
  'stringData',
  '*.stringData',
];

/** Options for {@link createLogger}. */
export interface LoggerConfig {
  /** Minimum level. Default: `LIFELINE_LOG_LEVEL` or `info`. */
  level?: string;
  /** Component name attached to each line. Default: `lifeline`. */
  name?: string;
  /** Destination stream. Default: stderr, so stdout stays clean for `-o json`. */
  destination?: NodeJS.WritableStream;
}

/** Creates a JSON logger (pino) with secret redaction. */
export function createLogger(cfg: LoggerConfig = {}): Logger {
  const opts: LoggerOptions = {
    name: cfg.name ?? 'lifeline',
    level: cfg.level ?? process.env['LIFELINE_LOG_LEVEL'] ?? 'info',
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return pino(opts, (cfg.destination ?? process.stderr) as pino.DestinationStream);
}
