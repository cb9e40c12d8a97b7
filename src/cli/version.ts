import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'lifeline' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next candidate: src/ and dist/src/ sit at different depths
    }
  }
  return '0.0.0';
}

/** The package version (from package.json). */
export const VERSION: string = readVersion();
