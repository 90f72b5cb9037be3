/**
 * A capture archive that cannot be read. `detail` is one line without the
 * file name (the caller knows it); `offset` is the byte offset in the
 * decompressed tar stream where reading stopped, when there is one.
 */
export class CaptureError extends Error {
  constructor(
    readonly detail: string,
    readonly offset?: number,
  ) {
    super(detail);
    this.name = "CaptureError";
  }
}

export function hexOffset(n: number): string {
  return `0x${n.toString(16)}`;
}

/** `what (offset 0x…: why)`, the shape of every tar-level message */
export function tarError(what: string, offset: number, why: string): CaptureError {
  return new CaptureError(`${what} (offset ${hexOffset(offset)}: ${why})`, offset);
}

/** the gzip stream stops before its end: the file was cut at `offset` (its length) */
export function gzipTruncated(offset: number): CaptureError {
  return tarError("truncated gzip data", offset, "the file ends before the gzip stream does");
}

/** the gzip trailer at `offset` does not match what was inflated */
export function gzipTrailerMismatch(offset: number): CaptureError {
  return tarError("not valid gzip data", offset, "the CRC-32 and length in the gzip trailer do not match the data; the file is damaged or cut short");
}
