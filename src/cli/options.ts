import { Option } from '@commander-js/extra-typings';
import { OUTPUT_FORMATS, parseOutputFormat } from '../core/index.ts';

/** The `-o, --output` option every command takes. Default `table`. */
export function outputOption() {
  return new Option('-o, --output <format>', `output format: ${OUTPUT_FORMATS.join('|')}`)
    .default('table' as const)
    .argParser(parseOutputFormat);
}

/** Parses a positive integer option, with an error naming the flag. */
export function intArg(flag: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      throw new Error(`${flag} must be an integer >= ${min}, got "${value}"`);
    }
    return n;
  };
}
