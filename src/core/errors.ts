/**
 * Errors that tell the user what failed, on which object, and what to do next.
 *
 * Every error Lifeline shows a user is a {@link LifelineError}: `what` names the failure,
 * `where` the object/file/field, `fix` the next step. The CLI prints all three and exits
 * non-zero; the API returns them as a JSON problem body.
 */
export class LifelineError extends Error {
  /** Short machine-readable code, e.g. `config.invalid`. */
  readonly code: string;
  /** The object, file or field the error is about. */
  readonly where: string | undefined;
  /** What the user should do next. */
  readonly fix: string | undefined;

  constructor(
    code: string,
    message: string,
    opts: { where?: string | undefined; fix?: string | undefined; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LifelineError';
    this.code = code;
    this.where = opts.where;
    this.fix = opts.fix;
  }

  /** Renders `what` / `where` / `fix` as lines for a terminal. */
  render(): string {
    const lines = [`error: ${this.message}`];
    if (this.where !== undefined) lines.push(`  where: ${this.where}`);
    if (this.fix !== undefined) lines.push(`  fix:   ${this.fix}`);
    return lines.join('\n');
  }

  toJSON(): { code: string; message: string; where?: string; fix?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.where === undefined ? {} : { where: this.where }),
      ...(this.fix === undefined ? {} : { fix: this.fix }),
    };
  }
}

/** Returns a readable message for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

/** True when `err` is an AbortError raised because an AbortSignal fired. */
export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}
