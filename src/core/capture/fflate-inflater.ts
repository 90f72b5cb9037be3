import { Gunzip } from "fflate";
import type { FileTree } from "../fs/file-tree.js";
import { CAPTURE_LIMITS } from "./limits.js";
import type { CaptureLimits } from "./limits.js";
import { CaptureReaderCore } from "./read-capture.js";
import type { InflaterFactory } from "./read-capture.js";

/**
 * The capture reader with its isomorphic gzip engine, fflate. Kept apart
 * from the reader's core: a platform that inflates natively (the CLI with
 * node:zlib) never loads fflate and skips its table set-up at start.
 */
export const fflateInflater: InflaterFactory = (onData) => {
  const gunzip = new Gunzip((data) => onData(data));
  return { push: (chunk, final) => gunzip.push(chunk, final) };
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
