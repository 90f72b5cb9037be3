import { writeJson } from "./json-stream.js";

/** where commands write; tests pass their own */
export interface Output {
  out(text: string): void;
  err(text: string): void;
  color: boolean;
  /**
   * writes one piece of a long output as is (no newline added), resolving
   * when the destination can take more; without it, long outputs go
   * through `out` in one piece
   */
  write?(chunk: string): void | Promise<void>;
}

/** resolves once stdout has drained, when a write filled its buffer */
function writeStdout(chunk: string): void | Promise<void> {
  if (process.stdout.write(chunk)) return undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      process.stdout.off("drain", done);
      process.stdout.off("close", done);
      process.stdout.off("error", done);
      resolve();
    };
    process.stdout.on("drain", done);
    process.stdout.on("close", done);
    process.stdout.on("error", done);
  });
}

export const stdio: Output = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : text + "\n"),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : text + "\n"),
  color: process.stdout.isTTY === true && !("NO_COLOR" in process.env),
  write: writeStdout,
};

/** `--json` output: streamed where the Output can take pieces, else one `out` */
export async function outJson(io: Output, value: unknown): Promise<void> {
  if (io.write) await writeJson(value, (c) => io.write!(c));
  else io.out(toJson(value));
}

/** text output of many lines: the bytes of `out(lines.join("\n"))`, streamed where the Output can take pieces */
export async function outLines(io: Output, lines: readonly string[]): Promise<void> {
  if (!io.write) {
    io.out(lines.join("\n"));
    return;
  }
  let buf = "";
  let endsWithNewline = false;
  for (let i = 0; i < lines.length; i++) {
    const piece = i === 0 ? lines[i]! : `\n${lines[i]!}`;
    buf += piece;
    if (piece.length > 0) endsWithNewline = piece.endsWith("\n");
    if (buf.length >= 64 * 1024) {
      await io.write(buf);
      buf = "";
    }
  }
  await io.write(endsWithNewline ? buf : `${buf}\n`);
}

/** stable JSON for --json output */
export const toJson = (value: unknown): string => JSON.stringify(value, null, 2);
