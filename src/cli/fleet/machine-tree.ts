/**
 * How `fleet_machines.tree` holds a machine's tree: `IAMT` and a format
 * byte, then the entries deflated (raw deflate): a u32 entry count, then per
 * entry a kind byte (0 file, 1 folder, 2 link), the u32 lengths of its path
 * and of its body (file bytes, link target), the path and the body, all
 * little-endian, paths in sorted order. A capture archive spends a 512-byte
 * header and padding on each of a sysfs tree's hundreds of small files;
 * this reads back about ten times faster, which is what `whatif` pays per
 * machine. Databases written before hold capture archives (tar.gz); those
 * still read.
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import type { FileTree, FileTreeEntry } from "../../core/fs/file-tree.js";
import { decodeArchive } from "../sysfs/archive.js";
import { SourceError } from "../sysfs/errors.js";

const MAGIC = [0x49, 0x41, 0x4d, 0x54]; // "IAMT"
const FORMAT = 1;
const KINDS = ["file", "dir", "symlink"] as const;

/** `tree` packed for the store (same tree, same bytes) */
export function encodeMachineTree(tree: FileTree): Uint8Array {
  const keys = [...tree.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const parts: Uint8Array[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32LE(keys.length);
  parts.push(count);
  for (const key of keys) {
    const e = tree.get(key)!;
    const path = Buffer.from(key, "utf8");
    const body = e.kind === "file" ? e.data : e.kind === "symlink" ? Buffer.from(e.target, "utf8") : new Uint8Array(0);
    const head = Buffer.alloc(9);
    head[0] = KINDS.indexOf(e.kind);
    head.writeUInt32LE(path.length, 1);
    head.writeUInt32LE(body.length, 5);
    parts.push(head, path, body);
  }
  const packed = deflateRawSync(Buffer.concat(parts), { level: 6 });
  // its own buffer (never a slice of Node's shared pool): the ingest workers transfer it
  const out = new Uint8Array(5 + packed.length);
  out.set([...MAGIC, FORMAT]);
  out.set(packed, 5);
  return out;
}

const isPacked = (b: Uint8Array): boolean => b.length >= 5 && MAGIC.every((m, i) => b[i] === m);

/**
 * The tree of a stored machine (either form). `name` names it in errors.
 *
 * @throws SourceError when the bytes are damaged
 */
export function decodeMachineTree(bytes: Uint8Array, name: string): FileTree {
  if (!isPacked(bytes)) return decodeArchive(bytes, name);
  if (bytes[4] !== FORMAT) throw new SourceError(name, `stored tree in format ${bytes[4]}, which this version does not read; upgrade iommu-atlas`);
  let raw: Buffer;
  try {
    raw = inflateRawSync(bytes.subarray(5));
  } catch (err) {
    throw new SourceError(name, `stored tree does not inflate (${err instanceof Error ? err.message : String(err)}); ingest a capture of this machine again`);
  }
  const damaged = (at: number): SourceError => new SourceError(name, `stored tree damaged at byte ${at}; ingest a capture of this machine again`, at);
  const text = new TextDecoder("utf-8", { fatal: true });
  const tree = new Map<string, FileTreeEntry>();
  if (raw.length < 4) throw damaged(0);
  const n = raw.readUInt32LE(0);
  let at = 4;
  for (let i = 0; i < n; i++) {
    if (at + 9 > raw.length) throw damaged(at);
    const kind = KINDS[raw[at]!];
    const pathEnd = at + 9 + raw.readUInt32LE(at + 1);
    const end = pathEnd + raw.readUInt32LE(at + 5);
    if (!kind || end > raw.length) throw damaged(at);
    let path: string;
    try {
      path = text.decode(raw.subarray(at + 9, pathEnd));
    } catch {
      throw damaged(at + 9);
    }
    const body = raw.subarray(pathEnd, end);
    tree.set(path, kind === "file" ? { kind, data: body } : kind === "dir" ? { kind } : { kind, target: body.toString("utf8") });
    at = end;
  }
  if (at !== raw.length) throw damaged(at);
  return tree;
}
