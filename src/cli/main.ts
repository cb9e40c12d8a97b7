import { Command, CommanderError } from '@commander-js/extra-typings';
import { LifelineError, errorMessage } from '../core/index.ts';
import { registerCommands } from './commands/index.ts';
import { VERSION } from './version.ts';

/** Builds the `lifeline` command tree. */
export function buildProgram(): Command {
  const program = new Command('lifeline')
    .description('Self-healing, backup and disaster recovery for Kubernetes platforms')
    .version(VERSION, '--version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  return program;
}

/** Runs the CLI; prints errors as what / where / fix and sets a non-zero exit code. */
export async function run(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof LifelineError) {
      process.stderr.write(`${err.render()}\n`);
    } else {
      process.stderr.write(`error: ${errorMessage(err)}\n`);
      if (process.env['LIFELINE_DEBUG'] === '1' && err instanceof Error)
        process.stderr.write(`${err.stack ?? ''}\n`);
    }
    process.exitCode = 1;
  }
}
