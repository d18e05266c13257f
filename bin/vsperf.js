#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ after `npm run build` (run by `npm ci` via `prepare`).
import('../dist/framework/cli/main.js').then((m) => m.main(process.argv.slice(2))).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err); process.exitCode = 1; },
);
