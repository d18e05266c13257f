// What every thin launcher in bin/ does: run a CLI's main(argv) from dist/ and turn its result into the exit code.
// A closed pipe (vsperf --list | head) is a normal way for output to end, not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

/** @param {string} modulePath a module with `main(argv): Promise<number>`, relative to bin/ */
export function launch(modulePath) {
  import(modulePath)
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
}
