import type { Command } from '@commander-js/extra-typings';
import { render } from '../../core/index.ts';
import { outputOption } from '../options.ts';
import { VERSION } from '../version.ts';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the Lifeline version')
    .addOption(outputOption())
    .action((opts) => {
      const info = {
        version: VERSION,
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
      };
      if (opts.output === 'table') process.stdout.write(`lifeline ${VERSION} (node ${process.version})\n`);
      else process.stdout.write(`${render(opts.output, info)}\n`);
    });
}
