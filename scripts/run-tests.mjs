#!/usr/bin/env node
// Runs the node:test suites. Node 20 does not expand globs in `--test`, so the files are listed
// here: every `*.test.ts` under test/ and src/. Arguments filter by substring of the path
// (`node scripts/run-tests.mjs store objectstore`). LIFELINE_TEST_CONCURRENCY sets how many
// files run at once (default 2; suites that start sandboxes are sized for 2 cores).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const files = ['test', 'src']
  .flatMap((d) => {
    try {
      return walk(join(root, d));
    } catch {
      return [];
    }
  })
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const concurrency = process.env.LIFELINE_TEST_CONCURRENCY ?? '2';
// A hung test fails after LIFELINE_TEST_TIMEOUT_MS (default 10 min) instead of stalling CI, and a
// file whose tests are done exits even if a stray handle is still open.
const timeout = process.env.LIFELINE_TEST_TIMEOUT_MS ?? '600000';
const args = [
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${concurrency}`,
  `--test-timeout=${timeout}`,
  '--test-force-exit',
  '--test-reporter=spec',
  ...files,
];
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
