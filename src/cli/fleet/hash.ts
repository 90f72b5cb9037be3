import { createHash } from "node:crypto";
import type { FileTree } from "../../core/fs/file-tree.js";

/**
 * Content hashes of a capture tree (sha256, hex): every file's path and
 * bytes and every link's path and target, in sorted path order. Folders are
 * implied by the paths; archive details (entry order, times, owners,
 * compression) do not count, so `iommu-atlas capture` and `capture.sh`
 * captures of the same host hash alike. `tree` covers everything;
 * `without` leaves out the paths in `leaveOut` (one pass for both).
 */
export function treeHashes(tree: FileTree, leaveOut: ReadonlySet<string> = new Set()): { tree: string; without: string } {
  const keys = [...tree.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // every entry's bytes laid out once, then hashed in a few long runs (a native call per entry costs more than the hashing)
  const items: { key: string; kind: string; body: Uint8Array; keyBytes: number }[] = [];
  let size = 0;
  for (const key of keys) {
    const e = tree.get(key)!;
    if (e.kind === "dir") continue;
    const body = e.kind === "file" ? e.data : Buffer.from(e.target, "utf8");
    const keyBytes = Buffer.byteLength(key);
    items.push({ key, kind: e.kind === "file" ? "f" : "l", body, keyBytes });
    size += 9 + keyBytes + body.length;
  }
  const buf = Buffer.allocUnsafe(size);
  const all = createHash("sha256");
  const some = createHash("sha256");
  let at = 0;
  let run = 0;
  for (const { key, kind, body, keyBytes } of items) {
    const start = at;
    // kind, length-prefixed path and content: no two trees share a byte stream
    buf.write(kind, at, "latin1");
    buf.writeUInt32LE(keyBytes, at + 1);
    buf.writeUInt32LE(body.length, at + 5);
    at += 9;
    at += buf.write(key, at, "utf8");
    buf.set(body, at);
    at += body.length;
    if (leaveOut.has(key)) {
      some.update(buf.subarray(run, start));
      run = at;
    }
  }
  some.update(buf.subarray(run, at));
  all.update(buf);
  return { tree: all.digest("hex"), without: some.digest("hex") };
}

/** the content hash of the whole tree (see treeHashes) */
export const treeHash = (tree: FileTree): string => treeHashes(tree).tree;
