import type { Command } from '@commander-js/extra-typings';
import { registerVersion } from './version.ts';
import { registerServe } from './serve.ts';
import { registerAnomaly } from './anomaly.ts';
import { registerSandbox } from './sandbox.ts';
import { registerDoctor } from './doctor.ts';
import { registerDemo } from './demo.ts';
import { registerRuns } from './runs.ts';

/** Adds every `lifeline <noun> <verb>` command. One line per command module. */
export function registerCommands(program: Command): void {
  registerVersion(program);
  registerServe(program);
  registerAnomaly(program);
  registerSandbox(program);
  registerDoctor(program);
  registerDemo(program);
  registerRuns(program);
}
