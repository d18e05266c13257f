#!/usr/bin/env node
// Thin launcher for the tgshim.v1 server (tgshim.ts with trafficgen/grpc/shim-cli.ts, compiled into dist/).
import('../dist/tgshim.js')
  .then((m) => m.main(process.argv.slice(2)))
  .then(
    (code) => {
      process.exit(code);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
