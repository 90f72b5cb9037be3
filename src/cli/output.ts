import { rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

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

/** writes a whole file atomically: a temp file in the same folder, then rename */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** stable JSON for --json output */
export const toJson = (value: unknown): string => JSON.stringify(value, null, 2);
