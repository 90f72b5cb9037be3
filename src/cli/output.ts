/** where commands write; tests pass their own */
export interface Output {
  out(text: string): void;
  err(text: string): void;
  color: boolean;
}

export const stdio: Output = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : text + "\n"),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : text + "\n"),
  color: process.stdout.isTTY === true && !("NO_COLOR" in process.env),
};

/** stable JSON for --json output */
export const toJson = (value: unknown): string => JSON.stringify(value, null, 2);
