import type { Stats } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { once } from "node:events";
import { createGunzip } from "node:zlib";
import { CaptureError } from "../../core/capture/capture-error.js";
import { CaptureReaderCore } from "../../core/capture/read-capture.js";
import type { FileTree } from "../../core/fs/file-tree.js";
import { InputChunks, inputLabel } from "../input.js";
import { progress } from "../progress.js";
import { collectSysfs } from "./collect.js";
import { SourceError, systemErrorText } from "./errors.js";

/**
 * Reading captures (the writing side, with node-tar, is archive.ts): kept
 * apart so that the commands that only read a capture load no tar writer.
 */

export function sourceError(file: string, err: unknown): SourceError {
  if (err instanceof CaptureError) return new SourceError(file, err.detail, err.offset);
  throw err;
}

/**
 * Reads a capture: a folder holding `sys/` (read like a live sysfs), a `.tar`
 * or a `.tar.gz` (a file, a pipe or `-` for standard input), told apart by
 * content rather than name. Archives are read in one streaming pass (see
 * core/capture).
 *
 * @throws SourceError with a one-line message for anything unreadable
 */
export async function readSource(file: string): Promise<FileTree> {
  let size: number | undefined;
  if (file !== "-") {
    let st: Stats;
    try {
      st = await stat(file);
    } catch (err) {
      throw new SourceError(file, systemErrorText(err));
    }
    if (st.isDirectory()) {
      const pciDir = await stat(path.join(file, "sys/bus/pci")).catch(() => undefined);
      if (!pciDir?.isDirectory()) throw new SourceError(file, "folder has no sys/bus/pci");
      return (await collectSysfs(file)).tree;
    }
    if (st.isFile()) size = st.size;
  }
  const input = new InputChunks(file, (detail) => new SourceError(inputLabel(file), detail));
  try {
    return await readArchive(input, size);
  } finally {
    input.close();
  }
}

/**
 * One pass over the file through the capture reader. gzip is inflated by
 * node:zlib (native, several times faster than the reader's own fflate on a
 * big capture), everything else goes to the reader as it is.
 */
export async function readArchive(input: InputChunks, size?: number, keep?: Uint8Array[]): Promise<FileTree> {
  const bar = progress({ label: `reading ${path.basename(input.label)}`, total: size, unit: "bytes" });
  try {
    return await readArchiveChunks(input, (n) => bar.update(n), keep);
  } finally {
    bar.end();
  }
}

async function readArchiveChunks(input: InputChunks, onBytes: (n: number) => void, keep: Uint8Array[] | undefined): Promise<FileTree> {
  const file = input.label;
  const reader = new CaptureReaderCore();
  const head = await input.head(2);
  const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  const nextChunk = async (): Promise<Uint8Array | undefined> => {
    const c = await input.next();
    if (c && keep) keep.push(c);
    return c;
  };
  try {
    if (!gzip) {
      let read = 0;
      for (let chunk = await nextChunk(); chunk; chunk = await nextChunk()) {
        read += chunk.length;
        reader.push(chunk);
        onBytes(read);
      }
      return reader.finish();
    }
    let read = 0;
    let failed: unknown;
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    gunzip.on("data", (data: Buffer) => {
      if (failed !== undefined) return;
      try {
        reader.pushInflated(new Uint8Array(data.buffer, data.byteOffset, data.length), read);
      } catch (err) {
        failed = err;
        gunzip.destroy();
      }
    });
    const ended = new Promise<void>((resolve, reject) => {
      gunzip.on("end", resolve);
      gunzip.on("close", resolve);
      gunzip.on("error", reject);
    });
    ended.catch(() => undefined);
    reader.pushInflated(new Uint8Array(0), 0);
    for (let chunk = await nextChunk(); chunk && failed === undefined; chunk = await nextChunk()) {
      read += chunk.length;
      onBytes(read);
      if (!gunzip.write(chunk)) await Promise.race([once(gunzip, "drain"), ended]);
    }
    if (failed === undefined) gunzip.end();
    try {
      await ended;
    } catch (err) {
      if (failed === undefined) {
        // worded as the reader's own gzip engine words it, so the CLI and the web page say the same
        const truncated = (err as { code?: unknown }).code === "Z_BUF_ERROR";
        reader.inflateFailed(truncated ? "unexpected EOF" : err instanceof Error ? err.message : String(err), truncated, read);
      }
    }
    if (failed !== undefined) throw failed;
    return reader.finish();
  } catch (err) {
    throw sourceError(file, err);
  }
}
