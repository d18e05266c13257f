#!/usr/bin/env node
// Thin launcher for the Software generator's standalone CLI (trafficgen/software/cli.ts, built into dist/).
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
import('../dist/trafficgen/software/cli.js')
  .then((m) => m.main(process.argv.slice(2)))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
