import { gzipSync } from "node:zlib";
import { Header, type HeaderData, Pax } from "tar";
import { readCapture } from "../../core/capture/index.js";
import type { FileTree, FileTreeEntry } from "../../core/fs/file-tree.js";
import { writeFileAtomic } from "../atomic-write.js";
import { sourceError } from "./archive-read.js";
import { OutputError, systemErrorText } from "./errors.js";

export { readSource } from "./archive-read.js";

const BLOCK = 512;
/** fixed entry time, so equal trees give equal bytes */
const EPOCH = new Date(0);

/**
 * Parses capture archive bytes (tar, or gzip-compressed tar) into a FileTree.
 * `file` only names the source in errors.
 *
 * @throws SourceError
 */
export function decodeArchive(bytes: Uint8Array, file: string): FileTree {
  try {
    return readCapture(bytes);
  } catch (err) {
    throw sourceError(file, err);
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
  try {
    await writeFileAtomic(file, encodeArchive(tree));
  } catch (err) {
    throw new OutputError(file, `cannot write the capture: ${systemErrorText(err)}`);
  }
}
