import { excerpt } from "../excerpt.js";
import { tarError } from "./capture-error.js";
import type { CaptureLimits } from "./limits.js";

/**
 * A push parser for the tar stream inside a capture: ustar, pax extended
 * headers (path, linkpath, size) and GNU long names. It holds one header and
 * the current entry's bytes, never the archive, so memory follows the
 * largest entry rather than the archive size.
 */

const BLOCK = 512;

/** UTF-8 text of tar names and pax records: the platform's decoder (Node and browsers have it; core's lib types do not name it) */
const utf8 = new (globalThis as unknown as { TextDecoder: new () => { decode(bytes: Uint8Array): string } }).TextDecoder();
const strFromU8 = (bytes: Uint8Array): string => utf8.decode(bytes);

/** entry types a capture uses; everything else is skipped */
export type TarEntryType = "file" | "dir" | "symlink" | "hardlink" | "other";

export interface TarEntry {
  /** the full path, after pax or GNU long-name overrides */
  readonly path: string;
  readonly type: TarEntryType;
  /** link target for symlinks and hard links */
  readonly linkpath: string;
  /** contents of a regular file (empty for other types) */
  readonly data: Uint8Array;
  /** offset of the entry's header in the tar stream */
  readonly offset: number;
}

/** overrides from pax or GNU records for the next real entry */
interface Pending {
  path?: string;
  linkpath?: string;
  size?: number;
}

interface Header {
  name: string;
  linkname: string;
  size: number;
  flag: number;
}

const FLAG = {
  file: 0x30, // '0'
  fileOld: 0x00,
  hardlink: 0x31, // '1'
  symlink: 0x32, // '2'
  dir: 0x35, // '5'
  contiguous: 0x37, // '7'
  pax: 0x78, // 'x'
  paxOld: 0x58, // 'X' (Solaris)
  paxGlobal: 0x67, // 'g'
  gnuLongName: 0x4c, // 'L'
  gnuLongLink: 0x4b, // 'K'
} as const;

const META_FLAGS: ReadonlySet<number> = new Set([FLAG.pax, FLAG.paxOld, FLAG.paxGlobal, FLAG.gnuLongName, FLAG.gnuLongLink]);

function cString(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  const stop = start + length;
  while (end < stop && bytes[end] !== 0) end++;
  return strFromU8(bytes.subarray(start, end));
}

/** octal field (spaces and NULs around it), or GNU base-256; undefined when unreadable */
function numberField(bytes: Uint8Array, start: number, length: number): number | undefined {
  const first = bytes[start]!;
  if (first & 0x80) {
    if (first === 0xff) return undefined; // negative
    let value = first & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + bytes[i]!;
    return Number.isSafeInteger(value) ? value : undefined;
  }
  let value = 0;
  let digits = 0;
  for (let i = start; i < start + length; i++) {
    const c = bytes[i]!;
    if (c === 0x20 || c === 0) {
      if (digits > 0) break;
      continue;
    }
    if (c < 0x30 || c > 0x37) return undefined;
    value = value * 8 + (c - 0x30);
    digits++;
  }
  return digits > 0 ? value : 0;
}

function isNullBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function checksumValid(block: Uint8Array): boolean {
  const stored = numberField(block, 148, 8);
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** pax records: `<len> <key>=<value>\n` */
function parsePax(data: Uint8Array, offset: number): Pending {
  const out: Pending = {};
  let pos = 0;
  while (pos < data.length) {
    let space = pos;
    while (space < data.length && data[space] !== 0x20) space++;
    const len = Number(strFromU8(data.subarray(pos, space)));
    if (!Number.isSafeInteger(len) || len <= space - pos || pos + len > data.length) {
      if (data.subarray(pos).every((b) => b === 0)) break;
      throw tarError("corrupt tar archive", offset, "unreadable pax header");
    }
    const record = strFromU8(data.subarray(space + 1, pos + len));
    const eq = record.indexOf("=");
    if (eq < 0) throw tarError("corrupt tar archive", offset, "unreadable pax header");
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1).replace(/\n$/, "");
    if (key === "path") out.path = value;
    else if (key === "linkpath") out.linkpath = value;
    else if (key === "size") {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 0) throw tarError("corrupt tar archive", offset, "bad pax size");
      out.size = n;
    }
    pos += len;
  }
  return out;
}

export class TarParser {
  /** offset in the tar stream of the next byte to arrive */
  private position = 0;
  private readonly header = new Uint8Array(BLOCK);
  private headerFill = 0;
  /** the entry being read: its header, offset, and body so far */
  private current: { header: Header; offset: number; body: Uint8Array | undefined; size: number; fill: number } | undefined;
  /** bytes of padding still to skip after an entry's body */
  private skip = 0;
  private pending: Pending = {};
  private entries = 0;
  private ended = false;

  constructor(
    private readonly limits: CaptureLimits,
    private readonly onEntry: (entry: TarEntry) => void,
  ) {}

  /** true once the end-of-archive marker was read */
  get done(): boolean {
    return this.ended;
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n && !this.ended) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        this.position += take;
        continue;
      }
      const cur = this.current;
      if (cur) {
        const take = Math.min(cur.size - cur.fill, n - i);
        if (cur.body) cur.body.set(chunk.subarray(i, i + take), cur.fill);
        cur.fill += take;
        i += take;
        this.position += take;
        if (cur.fill === cur.size) this.finishEntry(cur.header, cur.offset, cur.body ?? new Uint8Array(0), cur.size);
        continue;
      }
      const take = Math.min(BLOCK - this.headerFill, n - i);
      this.header.set(chunk.subarray(i, i + take), this.headerFill);
      this.headerFill += take;
      i += take;
      this.position += take;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.startEntry(this.position - BLOCK);
      }
    }
  }

  /** @throws CaptureError when the stream stopped before the end-of-archive marker */
  finish(): void {
    if (this.ended) return;
    if (this.current) {
      const { offset, size, fill } = this.current;
      throw tarError("truncated tar archive", offset, `entry needs ${size} bytes, ${fill} left`);
    }
    throw tarError(this.position === 0 ? "not a tar archive" : "truncated tar archive", this.position - this.headerFill, "no end-of-archive marker");
  }

  private startEntry(offset: number): void {
    const block = this.header;
    if (isNullBlock(block)) {
      this.ended = true;
      return;
    }
    const what = offset === 0 ? "not a tar archive" : "corrupt tar archive";
    if (!checksumValid(block)) throw tarError(what, offset, "bad header checksum");
    if (++this.entries > this.limits.maxEntries) {
      throw tarError("tar archive has too many entries", offset, `more than ${this.limits.maxEntries}; a capture has far fewer`);
    }
    const flag = block[156]!;
    const headerSize = numberField(block, 124, 12);
    if (headerSize === undefined) throw tarError(what, offset, "bad size field");
    // a pax size applies to the entry it describes, never to another meta entry
    const size = META_FLAGS.has(flag) ? headerSize : (this.pending.size ?? headerSize);
    const magic = cString(block, 257, 6);
    const version = cString(block, 263, 2);
    let name = cString(block, 0, 100);
    // POSIX ustar keeps a path prefix; GNU tar uses those bytes for other fields
    if (magic === "ustar" && version === "00") {
      const prefix = cString(block, 345, 155);
      if (prefix !== "") name = `${prefix}/${name}`;
    }
    const header: Header = { name, linkname: cString(block, 157, 100), size, flag };
    const keep = flag === FLAG.file || flag === FLAG.fileOld || flag === FLAG.contiguous || META_FLAGS.has(flag);
    if (keep && size > this.limits.maxEntryBytes) {
      throw tarError("tar entry too large", offset, `"${excerpt(this.pending.path ?? name, 80)}" holds ${size} bytes, more than the ${this.limits.maxEntryBytes} a capture file may have`);
    }
    if (size === 0) {
      this.finishEntry(header, offset, new Uint8Array(0), 0);
      return;
    }
    this.current = { header, offset, body: keep ? new Uint8Array(size) : undefined, size, fill: 0 };
  }

  private finishEntry(header: Header, offset: number, body: Uint8Array, size: number): void {
    this.current = undefined;
    this.skip = (BLOCK - (size % BLOCK)) % BLOCK;
    switch (header.flag) {
      case FLAG.pax:
      case FLAG.paxOld:
        this.pending = { ...this.pending, ...parsePax(body, offset) };
        return;
      case FLAG.paxGlobal:
        // archive-wide defaults: nothing a capture relies on
        return;
      case FLAG.gnuLongName:
        this.pending = { ...this.pending, path: cString(body, 0, body.length) };
        return;
      case FLAG.gnuLongLink:
        this.pending = { ...this.pending, linkpath: cString(body, 0, body.length) };
        return;
    }
    const path = this.pending.path ?? header.name;
    const linkpath = this.pending.linkpath ?? header.linkname;
    this.pending = {};
    const max = this.limits.maxPathLength;
    if (path.length > max || linkpath.length > max) {
      throw tarError("tar entry path too long", offset, `more than ${max} characters; a capture's paths are far shorter`);
    }
    let type: TarEntryType;
    switch (header.flag) {
      case FLAG.file:
      case FLAG.fileOld:
      case FLAG.contiguous:
        type = path.endsWith("/") ? "dir" : "file";
        break;
      case FLAG.dir:
        type = "dir";
        break;
      case FLAG.symlink:
        type = "symlink";
        break;
      case FLAG.hardlink:
        type = "hardlink";
        break;
      default:
        type = "other";
    }
    this.onEntry({ path, type, linkpath, data: type === "file" ? body : new Uint8Array(0), offset });
  }
}
