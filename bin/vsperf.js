#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm ci` via `prepare`, or `npm run build`).
// A closed pipe (vsperf --list | head) is a normal way for output to end, not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
import('../dist/vsperf.js')
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
