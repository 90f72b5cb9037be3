import { SOURCE_HINT } from "../../core/sources/from-input.js";

export { SOURCE_HINT };

/**
 * A capture source (folder or archive) that cannot be read. The message is one
 * line: `<file>: <detail>; <hint>`. `offset` is the byte offset in the
 * (decompressed) archive where reading failed, when there is one.
 */
export class SourceError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly offset?: number,
  ) {
    super(`${file}: ${detail}; ${SOURCE_HINT}`);
    this.name = "SourceError";
  }
}

/** A capture archive that could not be written; no partial file is left behind. */
export class OutputError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = "OutputError";
  }
}

/** errno code of a Node system error (`ENOENT`), or undefined */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** short text of a Node system error without the path: `no such file or directory (ENOENT)` */
export function systemErrorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Node formats these as "ENOENT: no such file or directory, open 'x'"
  const m = /^([A-Z][A-Z0-9_]+): ([^,]+)/.exec(message);
  if (m) return `${m[2]} (${m[1]})`;
  return message.split("\n")[0] ?? message;
}
