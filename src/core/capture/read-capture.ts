import { excerpt } from "../excerpt.js";
import type { FileTree, FileTreeEntry } from "../fs/file-tree.js";
import { CaptureError, gzipTrailerMismatch, gzipTruncated, tarError } from "./capture-error.js";
import { CAPTURE_LIMITS } from "./limits.js";
import type { CaptureLimits } from "./limits.js";
import { TarParser } from "./tar.js";
import type { TarEntry } from "./tar.js";

/**
 * Reads a capture archive (a tar, or a gzip-compressed tar) in one pass over
 * the stream: push the file's bytes in chunks of any size, then `finish()`.
 * The same reader serves the CLI (chunks from disk) and the browser (a
 * dropped file); gzip is inflated by fflate as the bytes arrive.
 */

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** compressed bytes inflated at a time */
const INFLATE_SLICE = 16 * 1024;

const OTHER_COMPRESSION: ReadonlyArray<{ name: string; magic: readonly number[] }> = [
  { name: "xz", magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: "zstd", magic: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: "bzip2", magic: [0x42, 0x5a, 0x68] },
];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** true when the first bytes are gzip, or a tar header ("ustar" at 257) */
export function looksLikeCapture(head: Uint8Array): boolean {
  if (startsWith(head, GZIP_MAGIC)) return true;
  if (head.length < 262) return false;
  return String.fromCharCode(...head.subarray(257, 262)) === "ustar";
}

/** archive path → tree key; undefined for the root entry */
function treeKey(raw: string): string | undefined {
  let p = raw;
  while (p.startsWith("./")) p = p.slice(2);
  while (p.endsWith("/")) p = p.slice(0, -1);
  if (p === "" || p === ".") return undefined;
  return p;
}

function flateReason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A streaming gzip inflater: compressed bytes are pushed in, inflated bytes
 * come out through the callback it was made with, synchronously; a stream
 * that ends too early fails with "unexpected EOF".
 */
export interface Inflater {
  push(chunk: Uint8Array, final: boolean): void;
}

export type InflaterFactory = (onData: (data: Uint8Array) => void) => Inflater;

/**
 * The reader without a gzip engine of its own: `push` inflates gzip with the
 * inflater it is given; a platform that inflates natively uses
 * `pushInflated` and never loads fflate. Most callers want `CaptureReader`
 * from core/capture, which brings fflate.
 */
export class CaptureReaderCore {
  private readonly tree = new Map<string, FileTreeEntry>();
  private readonly tar: TarParser;
  private gunzip: Inflater | undefined;
  /** undefined until the first bytes tell the format */
  private format: "gzip" | "tar" | "inflated" | undefined;
  private head = new Uint8Array(0);
  private compressedIn = 0;
  /** compressed bytes handed to the inflater so far: the ratio check's base */
  private compressedFed = 0;
  private inflatedOut = 0;
  private finished = false;

  /** `inflater`: the gzip engine for `push` */
  constructor(
    private readonly limits: CaptureLimits = CAPTURE_LIMITS,
    private readonly inflater?: InflaterFactory,
  ) {
    this.tar = new TarParser(limits, (e) => this.add(e));
  }

  /** compressed bytes taken so far (for progress) */
  get bytesIn(): number {
    return this.compressedIn;
  }

  /** @throws CaptureError */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.compressedIn += chunk.length;
    if (this.format === undefined) {
      // the format is known after 6 bytes (magic numbers) or 262 (ustar)
      const joined = new Uint8Array(this.head.length + chunk.length);
      joined.set(this.head);
      joined.set(chunk, this.head.length);
      this.head = joined;
      if (!this.sniff(false)) return;
      chunk = this.head;
      this.head = new Uint8Array(0);
    }
    this.feed(chunk, false);
  }

  /**
   * Instead of `push`, for a platform that inflates gzip itself (the CLI
   * uses node:zlib, several times faster than fflate on a big capture): the
   * inflated bytes in order, with the count of compressed bytes read so far.
   * Limits and the ratio guard apply as with `push`.
   *
   * @throws CaptureError
   */
  pushInflated(data: Uint8Array, compressedSoFar: number): void {
    if (this.format !== undefined && this.format !== "inflated") throw new CaptureError("capture reader fed both compressed and inflated bytes");
    this.format = "inflated";
    this.compressedIn = compressedSoFar;
    // the platform inflater has consumed these: the ratio guard's base, as for push
    this.compressedFed = compressedSoFar;
    if (data.length > 0) this.inflated(data);
  }

  /**
   * The platform's inflater failed: the same message `push` gives for the
   * same fault (`truncated`: the gzip stream ended too early, at the end of
   * the `compressedBytes` the file had).
   */
  inflateFailed(reason: string, truncated: boolean, compressedBytes = this.compressedFed): never {
    if (truncated) throw gzipTruncated(compressedBytes);
    // node:zlib's words for a trailer that does not match; the isomorphic inflater says the same
    if (/^incorrect (data|length) check$/.test(reason)) throw gzipTrailerMismatch(Math.max(0, compressedBytes - 8));
    throw new CaptureError(`not valid gzip data (${reason})`);
  }

  /**
   * Ends the stream and returns the capture's files.
   *
   * @throws CaptureError
   */
  finish(): FileTree {
    if (this.finished) throw new CaptureError("capture reader used after finish");
    this.finished = true;
    if (this.format === undefined) {
      if (this.head.length === 0) throw new CaptureError("empty file");
      this.sniff(true);
      this.feed(this.head, true);
    } else if (this.format !== "inflated") {
      this.feed(new Uint8Array(0), true);
    }
    this.tar.finish();
    if (!this.hasPci()) throw new CaptureError("archive has no sys/bus/pci");
    return this.tree;
  }

  /** decides the format; false while more bytes are needed */
  private sniff(final: boolean): boolean {
    const head = this.head;
    if (startsWith(head, GZIP_MAGIC)) {
      this.format = "gzip";
      if (!this.inflater) throw new CaptureError("gzip data, but this reader has no gzip inflater; use CaptureReader from core/capture");
      this.gunzip = this.inflater((data) => this.inflated(data));
      return true;
    }
    const packed = OTHER_COMPRESSION.find((c) => startsWith(head, c.magic));
    if (packed) throw new CaptureError(`${packed.name}-compressed, only gzip is supported; decompress it first`);
    if (head.length < 6 && !final) return false;
    this.format = "tar";
    return true;
  }

  private feed(chunk: Uint8Array, final: boolean): void {
    if (this.format === "tar") {
      this.tar.push(chunk);
      return;
    }
    try {
      // in slices, so that a bomb is stopped after at most maxRatio × SLICE bytes more than the limit, not after the whole chunk
      for (let at = 0; at < chunk.length || (final && at === 0); at += INFLATE_SLICE) {
        const piece = chunk.subarray(at, at + INFLATE_SLICE);
        this.compressedFed += piece.length;
        this.gunzip!.push(piece, final && at + INFLATE_SLICE >= chunk.length);
      }
    } catch (err) {
      if (err instanceof CaptureError) throw err;
      const why = flateReason(err);
      this.inflateFailed(why, /unexpected EOF/i.test(why));
    }
  }

  private inflated(data: Uint8Array): void {
    this.inflatedOut += data.length;
    const { maxRatio, ratioAfterBytes } = this.limits;
    if (this.inflatedOut > ratioAfterBytes && this.inflatedOut > maxRatio * this.compressedFed) {
      throw new CaptureError(
        `gzip data inflates more than ${maxRatio} times its size (${this.inflatedOut} bytes from ${this.compressedFed}): not a capture, or a decompression bomb`,
        this.inflatedOut,
      );
    }
    // bytes after the end-of-archive marker (tar's zero padding) are ignored
    if (!this.tar.done) this.tar.push(data);
  }

  private add(entry: TarEntry): void {
    const key = treeKey(entry.path);
    if (key === undefined) return;
    if (entry.path.startsWith("/") || key.split("/").includes("..")) {
      throw tarError("unsafe tar archive", entry.offset, `path "${excerpt(entry.path, 80)}" leaves the capture root`);
    }
    switch (entry.type) {
      case "file":
        this.tree.set(key, { kind: "file", data: entry.data });
        return;
      case "dir":
        this.tree.set(key, { kind: "dir" });
        return;
      case "symlink":
        if (entry.linkpath === "") throw tarError("corrupt tar archive", entry.offset, `symlink ${excerpt(key, 80)} has no target`);
        this.tree.set(key, { kind: "symlink", target: entry.linkpath });
        return;
      case "hardlink": {
        // a second name for an earlier file
        const earlier = this.tree.get(treeKey(entry.linkpath) ?? "");
        if (earlier?.kind !== "file") throw tarError("corrupt tar archive", entry.offset, `hard link ${excerpt(key, 80)} to a missing file`);
        this.tree.set(key, earlier);
        return;
      }
      default:
      // devices, fifos and vendor extras are not part of a capture
    }
  }

  private hasPci(): boolean {
    for (const k of this.tree.keys()) if (k === "sys/bus/pci" || k.startsWith("sys/bus/pci/")) return true;
    return false;
  }
}
