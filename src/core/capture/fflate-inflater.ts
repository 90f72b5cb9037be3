import { Gunzip } from "fflate";
import type { FileTree } from "../fs/file-tree.js";
import { gzipTrailerMismatch, gzipTruncated } from "./capture-error.js";
import { CAPTURE_LIMITS } from "./limits.js";
import type { CaptureLimits } from "./limits.js";
import { CaptureReaderCore } from "./read-capture.js";
import type { InflaterFactory } from "./read-capture.js";

/** CRC-32 (IEEE, reflected), the checksum in a gzip trailer */
const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** `crc` carried over from the previous piece (0 to start); returns the CRC-32 so far */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * The capture reader with its isomorphic gzip engine, fflate. Kept apart
 * from the reader's core: a platform that inflates natively (the CLI with
 * node:zlib) never loads fflate and skips its table set-up at start.
 *
 * fflate's streaming inflater does not read the gzip trailer, so this one
 * does: the last member's CRC-32 and length must match what it inflated, as
 * node:zlib demands, so a cut or damaged file is refused on every platform.
 */
export const fflateInflater: InflaterFactory = (onData) => {
  let crc = 0;
  let size = 0;
  let total = 0;
  /** the last 8 compressed bytes seen: the trailer, once the stream is whole */
  const tail = new Uint8Array(8);
  let tailLength = 0;
  const gunzip = new Gunzip((data) => {
    crc = crc32(data, crc);
    size = (size + data.length) >>> 0;
    onData(data);
  });
  // a new member: the trailer checked at the end is that member's
  gunzip.onmember = () => {
    crc = 0;
    size = 0;
  };
  const keepTail = (chunk: Uint8Array): void => {
    if (chunk.length >= 8) {
      tail.set(chunk.subarray(chunk.length - 8));
      tailLength = 8;
      return;
    }
    const keep = Math.min(tailLength, 8 - chunk.length);
    tail.copyWithin(0, tailLength - keep, tailLength);
    tail.set(chunk, keep);
    tailLength = keep + chunk.length;
  };
  const checkTrailer = (): void => {
    const want = new Uint8Array(8);
    const view = new DataView(want.buffer);
    view.setUint32(0, crc, true);
    view.setUint32(4, size, true);
    if (tailLength === 8 && want.every((b, i) => b === tail[i])) return;
    // the file stops inside the trailer: its last bytes are the trailer's first
    for (let k = Math.min(7, tailLength); k >= 1; k--) {
      if (want.subarray(0, k).every((b, i) => b === tail[tailLength - k + i])) {
        throw gzipTruncated(total);
      }
    }
    throw gzipTrailerMismatch(Math.max(0, total - 8));
  };
  return {
    push: (chunk, final) => {
      total += chunk.length;
      keepTail(chunk);
      gunzip.push(chunk, final);
      if (final) checkTrailer();
    },
  };
};

/**
 * Reads a capture archive (a tar, or a gzip-compressed tar) in one pass over
 * the stream: push the file's bytes in chunks of any size, then `finish()`.
 */
export class CaptureReader extends CaptureReaderCore {
  constructor(limits: CaptureLimits = CAPTURE_LIMITS, inflater: InflaterFactory = fflateInflater) {
    super(limits, inflater);
  }
}

/**
 * Reads a whole capture archive held in memory.
 *
 * @throws CaptureError with a one-line `detail`
 */
export function readCapture(bytes: Uint8Array, limits: CaptureLimits = CAPTURE_LIMITS): FileTree {
  const reader = new CaptureReader(limits);
  reader.push(bytes);
  return reader.finish();
}
