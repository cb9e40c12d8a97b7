// Runs the CLI from source; used by test/support/cli.ts.
import { run } from '../../src/cli/main.ts';

await run(process.argv);
