/** The `vsperf` command: the framework's CLI with the built-in drivers (composition root, with drivers.ts). */
import { main as cliMain } from './framework/cli/main.js';
import { registerBuiltins } from './drivers.js';

export function main(argv: string[]): Promise<number> {
  return cliMain(argv, { registerBuiltins });
}
