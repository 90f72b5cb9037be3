import { createHash } from "node:crypto";
import type { Hash } from "node:crypto";
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
  const all = createHash("sha256");
  const some = createHash("sha256");
  const keys = [...tree.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const head = Buffer.alloc(9);
  const feed = (h: Hash, key: string, kind: string, body: Uint8Array): void => {
    // kind, length-prefixed path and content: no two trees share a byte stream
    head.write(kind, 0, "latin1");
    head.writeUInt32LE(Buffer.byteLength(key), 1);
    head.writeUInt32LE(body.length, 5);
    h.update(head);
    h.update(key);
    h.update(body);
  };
  for (const key of keys) {
    const e = tree.get(key)!;
    if (e.kind === "dir") continue;
    const kind = e.kind === "file" ? "f" : "l";
    const body = e.kind === "file" ? e.data : Buffer.from(e.target, "utf8");
    feed(all, key, kind, body);
    if (!leaveOut.has(key)) feed(some, key, kind, body);
  }
  return { tree: all.digest("hex"), without: some.digest("hex") };
}

/** the content hash of the whole tree (see treeHashes) */
export const treeHash = (tree: FileTree): string => treeHashes(tree).tree;
