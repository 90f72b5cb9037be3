import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { Header, type HeaderData, Pax } from "tar";
import type { FileTree, FileTreeEntry } from "../../core/fs/file-tree.js";
import { collectSysfs } from "./collect.js";
import { OutputError, SourceError, errnoCode, systemErrorText } from "./errors.js";

const BLOCK = 512;
/** captures are well under a megabyte; refuse gzip bombs */
const MAX_TAR_SIZE = 256 * 1024 * 1024;
/** fixed entry time, so equal trees give equal bytes */
const EPOCH = new Date(0);

const COMPRESSED_MAGIC: ReadonlyArray<{ name: string; magic: readonly number[] }> = [
  { name: "xz", magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: "zstd", magic: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: "bzip2", magic: [0x42, 0x5a, 0x68] },
];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function tarError(file: string, what: string, offset: number, why: string): SourceError {
  return new SourceError(file, `${what} (offset ${hex(offset)}: ${why})`, offset);
}

/**
 * Reads a capture: a folder holding `sys/` (read like a live sysfs), a `.tar`
 * or a `.tar.gz`, told apart by content rather than name.
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
    // an extracted capture: keep its host name file too, if it recorded one
    return (await collectSysfs(file, { hostname: true })).tree;
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new SourceError(file, systemErrorText(err));
  }
  return decodeArchive(bytes, file);
}

/**
 * Parses capture archive bytes (tar, or gzip-compressed tar) into a FileTree.
 * `file` only names the source in errors.
 *
 * @throws SourceError
 */
export function decodeArchive(bytes: Uint8Array, file: string): FileTree {
  if (bytes.length === 0) throw new SourceError(file, "empty file");
  let tar = bytes;
  if (startsWith(bytes, [0x1f, 0x8b])) {
    tar = gunzip(bytes, file);
  } else {
    const packed = COMPRESSED_MAGIC.find((c) => startsWith(bytes, c.magic));
    if (packed) throw new SourceError(file, `${packed.name}-compressed, only gzip is supported; decompress it first`);
  }
  const tree = parseTar(tar, file);
  if (![...tree.keys()].some((k) => k === "sys/bus/pci" || k.startsWith("sys/bus/pci/"))) {
    throw new SourceError(file, "archive has no sys/bus/pci");
  }
  return tree;
}

function gunzip(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_TAR_SIZE });
  } catch (err) {
    const code = errnoCode(err);
    const why = err instanceof Error ? err.message : String(err);
    if (code === "Z_BUF_ERROR") throw new SourceError(file, `truncated gzip data (${why})`);
    if (code === "ERR_BUFFER_TOO_LARGE") throw new SourceError(file, `decompresses to more than ${MAX_TAR_SIZE} bytes`);
    throw new SourceError(file, `not valid gzip data (${why})`);
  }
}

/** entries that describe the next entry rather than being one */
const META_TYPES: ReadonlySet<string> = new Set([
  "ExtendedHeader",
  "OldExtendedHeader",
  "GlobalExtendedHeader",
  "NextFileHasLongPath",
  "OldGnuLongPath",
  "NextFileHasLongLinkpath",
]);

/** pending GNU / pax overrides for the next entry */
interface Pending {
  path?: string;
  linkpath?: string;
  size?: number;
}

function cString(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8").replace(/\0[\s\S]*$/, "");
}

/** archive path → tree key; undefined for the root entry */
function treeKey(raw: string): string | undefined {
  let p = raw;
  while (p.startsWith("./")) p = p.slice(2);
  while (p.endsWith("/")) p = p.slice(0, -1);
  if (p === "" || p === ".") return undefined;
  return p;
}

function parseTar(bytes: Uint8Array, file: string): Map<string, FileTreeEntry> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tree = new Map<string, FileTreeEntry>();
  let pending: Pending = {};
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > buf.length) {
      throw tarError(file, "truncated tar archive", offset, "no end-of-archive marker");
    }
    let header: Header;
    try {
      header = new Header(buf, offset);
    } catch (err) {
      // node-tar throws on fields it cannot decode (e.g. a bad base-256 number)
      throw tarError(file, offset === 0 ? "not a tar archive" : "corrupt tar archive", offset, err instanceof Error ? err.message : "unreadable header");
    }
    if (header.nullBlock) break;
    if (!header.cksumValid) {
      throw tarError(file, offset === 0 ? "not a tar archive" : "corrupt tar archive", offset, "bad header checksum");
    }
    // a pax size applies to the entry it describes, never to another meta entry
    const size = (META_TYPES.has(header.type) ? undefined : pending.size) ?? header.size;
    if (size === undefined || !Number.isSafeInteger(size) || size < 0) {
      throw tarError(file, "corrupt tar archive", offset, "bad size field");
    }
    const start = offset + BLOCK;
    if (start + size > buf.length) {
      throw tarError(file, "truncated tar archive", offset, `entry needs ${size} bytes, ${buf.length - start} left`);
    }
    const data = buf.subarray(start, start + size);
    const next = start + Math.ceil(size / BLOCK) * BLOCK;

    switch (header.type) {
      case "ExtendedHeader":
      case "OldExtendedHeader":
        try {
          pending = { ...pending, ...pickPax(Pax.parse(data.toString("utf8"))) };
        } catch (err) {
          throw tarError(file, "corrupt tar archive", offset, err instanceof Error ? err.message : "unreadable pax header");
        }
        break;
      case "GlobalExtendedHeader":
        // archive-wide defaults: nothing a capture relies on
        break;
      case "NextFileHasLongPath":
      case "OldGnuLongPath":
        pending = { ...pending, path: cString(data) };
        break;
      case "NextFileHasLongLinkpath":
        pending = { ...pending, linkpath: cString(data) };
        break;
      default:
        addEntry(tree, header, pending, data, file, offset);
        pending = {};
    }
    offset = next;
  }
  return tree;
}

function pickPax(pax: HeaderData): Pending {
  const out: Pending = {};
  if (pax.path !== undefined) out.path = pax.path;
  if (pax.linkpath !== undefined) out.linkpath = pax.linkpath;
  if (pax.size !== undefined) out.size = pax.size;
  return out;
}

function addEntry(
  tree: Map<string, FileTreeEntry>,
  header: Header,
  pending: Pending,
  data: Uint8Array,
  file: string,
  offset: number,
): void {
  const raw = pending.path ?? header.path ?? "";
  const key = treeKey(raw);
  if (key === undefined) return;
  if (key.startsWith("/") || key.split("/").includes("..")) {
    throw tarError(file, "unsafe tar archive", offset, `path ${JSON.stringify(raw)} leaves the capture root`);
  }
  const linkpath = pending.linkpath ?? header.linkpath ?? "";
  switch (header.type) {
    case "File":
    case "OldFile":
    case "ContiguousFile":
      tree.set(key, { kind: "file", data: new Uint8Array(data) });
      return;
    case "Directory":
      tree.set(key, { kind: "dir" });
      return;
    case "SymbolicLink":
      if (linkpath === "") throw tarError(file, "corrupt tar archive", offset, `symlink ${key} has no target`);
      tree.set(key, { kind: "symlink", target: linkpath });
      return;
    case "Link": {
      // hard link: a second name for an earlier file
      const earlier = tree.get(treeKey(linkpath) ?? "");
      if (earlier?.kind !== "file") throw tarError(file, "corrupt tar archive", offset, `hard link ${key} to a missing file`);
      tree.set(key, earlier);
      return;
    }
    default:
      // devices, fifos and vendor extras are not part of a capture
      return;
  }
}

/**
 * Encodes a FileTree as a gzip-compressed tar: entries in sorted path order,
 * uid/gid 0, fixed mtime, so the same tree always gives the same bytes.
 */
export function encodeArchive(tree: FileTree): Uint8Array {
  const chunks: Uint8Array[] = [];
  const keys = [...tree.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) {
    const entry = tree.get(key) as FileTreeEntry;
    const data: HeaderData = {
      path: entry.kind === "dir" ? `${key}/` : key,
      mode: entry.kind === "dir" ? 0o755 : entry.kind === "symlink" ? 0o777 : 0o644,
      uid: 0,
      gid: 0,
      size: entry.kind === "file" ? entry.data.length : 0,
      mtime: EPOCH,
      type: entry.kind === "dir" ? "Directory" : entry.kind === "symlink" ? "SymbolicLink" : "File",
      linkpath: entry.kind === "symlink" ? entry.target : "",
      uname: "root",
      gname: "root",
    };
    const block = Buffer.alloc(BLOCK);
    if (new Header(data).encode(block)) {
      // long path or link target: a pax header carries the full text
      const pax: HeaderData = { path: data.path as string };
      if (entry.kind === "symlink") pax.linkpath = entry.target;
      chunks.push(new Pax(pax).encode());
    }
    chunks.push(block);
    if (entry.kind === "file" && entry.data.length > 0) {
      chunks.push(entry.data);
      const pad = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
      if (pad > 0) chunks.push(new Uint8Array(pad));
    }
  }
  chunks.push(new Uint8Array(2 * BLOCK));
  return gzipSync(Buffer.concat(chunks), { level: 9 });
}

/**
 * Writes `tree` as a .tar.gz (see encodeArchive) atomically: a temporary file
 * beside `file`, then a rename; on failure the temporary file is removed.
 *
 * @throws OutputError
 */
export async function writeArchive(tree: FileTree, file: string): Promise<void> {
  const bytes = encodeArchive(tree);
  const temp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new OutputError(file, `cannot write the capture: ${systemErrorText(err)}`);
  }
}
