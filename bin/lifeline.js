#!/usr/bin/env node
// The `lifeline` CLI entry point: runs the compiled CLI from dist/ (built by `make setup`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write(
    `error: the lifeline CLI is not built\n  where: ${main}\n  fix:   run \`make setup\` (or \`npm run build\`) in the repository\n`,
  );
  process.exit(1);
}
const { run } = await import(pathToFileURL(main).href);
await run(process.argv);
