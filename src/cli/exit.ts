// Leave the process with a code once stdout and stderr are flushed (a stage that ignored Ctrl-C,
// or a worker pool, must not keep the CLI alive after it has reported).
export function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = (): void => {
    pending--;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
