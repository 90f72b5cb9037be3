import { open, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { once } from "node:events";
import { createGunzip } from "node:zlib";
import { CaptureError } from "../../core/capture/capture-error.js";
import { CaptureReaderCore } from "../../core/capture/read-capture.js";
import type { FileTree } from "../../core/fs/file-tree.js";
import { progress } from "../progress.js";
import { collectSysfs } from "./collect.js";
import { SourceError, systemErrorText } from "./errors.js";

/**
 * Reading captures (the writing side, with node-tar, is archive.ts): kept
 * apart so that the commands that only read a capture load no tar writer.
 */

/** bytes read from disk at a time */
const CHUNK = 1 << 20;

export function sourceError(file: string, err: unknown): SourceError {
  if (err instanceof CaptureError) return new SourceError(file, err.detail, err.offset);
  throw err;
}

/**
 * Reads a capture: a folder holding `sys/` (read like a live sysfs), a `.tar`
 * or a `.tar.gz`, told apart by content rather than name. Archives are read
 * in one streaming pass (see core/capture).
 *
 * @throws SourceError with a one-line message for anything unreadable
 */
export async function readSource(file: string): Promise<FileTree> {
  let isDir: boolean;
  try {
    isDir = (await stat(file)).isDirectory();
  } catch (err) {
    throw new SourceError(file, systemErrorText(err));
  }
  if (isDir) {
    const pciDir = await stat(path.join(file, "sys/bus/pci")).catch(() => undefined);
    if (!pciDir?.isDirectory()) throw new SourceError(file, "folder has no sys/bus/pci");
    return (await collectSysfs(file)).tree;
  }
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(file, "r");
    size = (await handle.stat()).size;
  } catch (err) {
    throw new SourceError(file, systemErrorText(err));
  }
  const bar = progress({ label: `reading ${path.basename(file)}`, total: size, unit: "bytes" });
  try {
    return await readArchive(handle, file, (n) => bar.update(n));
  } finally {
    bar.end();
    await handle.close();
  }
}

/** the next chunk of the file; empty at its end */
async function readChunk(handle: FileHandle, file: string): Promise<Uint8Array> {
  const buf = Buffer.allocUnsafe(CHUNK);
  try {
    const { bytesRead } = await handle.read(buf, 0, CHUNK);
    return buf.subarray(0, bytesRead);
  } catch (err) {
    throw new SourceError(file, systemErrorText(err));
  }
}

/**
 * One pass over the file through the capture reader. gzip is inflated by
 * node:zlib (native, several times faster than the reader's own fflate on a
 * big capture), everything else goes to the reader as it is.
 */
async function readArchive(handle: FileHandle, file: string, onBytes: (n: number) => void): Promise<FileTree> {
  const reader = new CaptureReaderCore();
  const first = await readChunk(handle, file);
  const gzip = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  try {
    if (!gzip) {
      let read = 0;
      for (let chunk = first; chunk.length > 0; chunk = await readChunk(handle, file)) {
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
    for (let chunk = first; chunk.length > 0 && failed === undefined; chunk = await readChunk(handle, file)) {
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
