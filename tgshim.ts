/** The `vsperf-tgshim` command: the tgshim.v1 server with the built-in drivers for its software backend (composition root, with drivers.ts). */
import { main as shimMain } from './trafficgen/grpc/shim-cli.js';
import { registerBuiltins } from './drivers.js';

export function main(argv: readonly string[]): Promise<number> {
  return shimMain(argv, { registerBuiltins });
}
