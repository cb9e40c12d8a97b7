#!/usr/bin/env node
// The `lifeline` CLI entry point: runs the compiled CLI from dist/ (built by `make setup`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The AWS SDK warns on every start that releases after January 2027 will need Node 22. The
// lockfile pins a release that supports Node 20 (see docs/adr/0003), so the notice is not
// actionable for a user of this build; set the variable to "false" to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write(
    `error: the lifeline CLI is not built\n  where: ${main}\n  fix:   run \`make setup\` (or \`npm run build\`) in the repository\n`,
  );
  process.exit(1);
}
const { run } = await import(pathToFileURL(main).href);
await run(process.argv);
