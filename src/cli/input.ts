import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { systemErrorText } from "./sysfs/errors.js";

/**
 * Reading what the user names: a file, a pipe or FIFO (`<(ssh host lspci
 * -vvnn)`), a character device, or `-` for standard input. Everything is read
 * front to back in chunks, never at a position, so a pipe reads as a file
 * does; and every reader stops once it has seen enough to refuse the input
 * (past its size limit, or at binary data), so `/dev/zero` or an endless
 * pipe is refused at once instead of filling memory.
 */

/** bytes read at a time */
const CHUNK = 1 << 20;

/** `-` in messages */
export function inputLabel(file: string): string {
  return file === "-" ? "stdin" : file;
}

/** the input's bytes in order; `head` looks ahead without taking */
export class InputChunks {
  readonly label: string;
  readonly #stream: Readable;
  readonly #it: AsyncIterator<unknown>;
  readonly #failed: (detail: string) => Error;
  /** looked at by `head`, not yet taken */
  #ahead: Uint8Array[] = [];
  #aheadBytes = 0;
  #ended = false;

  /**
   * `file`: a path or `-`; `failed` makes the error for a read that fails
   * (`detail`: the system's words, e.g. `permission denied (EACCES)`)
   */
  constructor(file: string, failed: (detail: string) => Error) {
    this.label = inputLabel(file);
    this.#failed = failed;
    this.#stream = file === "-" ? process.stdin : createReadStream(file, { highWaterMark: CHUNK });
    this.#it = this.#stream[Symbol.asyncIterator]();
  }

  async #pull(): Promise<Uint8Array | undefined> {
    if (this.#ended) return undefined;
    let r: IteratorResult<unknown>;
    try {
      r = await this.#it.next();
    } catch (err) {
      this.#ended = true;
      throw this.#failed(systemErrorText(err));
    }
    if (r.done) {
      this.#ended = true;
      return undefined;
    }
    const v = r.value;
    return typeof v === "string" ? new TextEncoder().encode(v) : new Uint8Array((v as Buffer).buffer, (v as Buffer).byteOffset, (v as Buffer).length);
  }

  /** at least the first `n` bytes not yet taken (fewer only at the end), without taking them */
  async head(n: number): Promise<Uint8Array> {
    while (this.#aheadBytes < n) {
      const c = await this.#pull();
      if (!c) break;
      this.#ahead.push(c);
      this.#aheadBytes += c.length;
    }
    return concat(this.#ahead, this.#aheadBytes);
  }

  /** the next chunk; undefined at the end */
  async next(): Promise<Uint8Array | undefined> {
    const c = this.#ahead.shift();
    if (c) {
      this.#aheadBytes -= c.length;
      return c;
    }
    return this.#pull();
  }

  /** stops reading (standard input included: nothing more is waited for) */
  close(): void {
    this.#ended = true;
    this.#stream.destroy();
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

export interface BoundedRead {
  /** what was read: everything, or up to the chunk that went past the limit or held a NUL byte */
  readonly bytes: Uint8Array;
  /** the input holds more than the limit */
  readonly tooLarge: boolean;
}

/**
 * Reads a text input to its end, but no further than `maxBytes` (plus the
 * chunk that shows it is longer) and no further than a chunk holding a NUL
 * byte (binary data: the caller refuses it with its offset).
 */
export async function readText(input: InputChunks, maxBytes: number): Promise<BoundedRead> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let c = await input.next(); c; c = await input.next()) {
    chunks.push(c);
    total += c.length;
    if (total > maxBytes) return { bytes: concat(chunks, total).subarray(0, maxBytes), tooLarge: true };
    if (c.indexOf(0) >= 0) break;
  }
  return { bytes: concat(chunks, total), tooLarge: false };
}

/** reads all of `file` (a path or `-`) as `readText` does, and closes it */
export async function readTextFile(file: string, maxBytes: number, failed: (detail: string) => Error): Promise<BoundedRead> {
  const input = new InputChunks(file, failed);
  try {
    return await readText(input, maxBytes);
  } finally {
    input.close();
  }
}
