/** the command line was wrong: exit 2 with one line */
export class UsageError extends Error {
  override name = "UsageError";
}

/** leave with this exit code; the message (if any) was printed already */
export class ExitError extends Error {
  override name = "ExitError";
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** input that cannot be used: exit 2 with one line naming the file and place */
export class InputError extends Error {
  override name = "InputError";
}
