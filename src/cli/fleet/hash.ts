import { createHash } from "node:crypto";
import type { FileTree } from "../../core/fs/file-tree.js";

/**
 * The content hash of a capture tree (sha256, hex): every file's path and
 * bytes and every link's path and target, in sorted path order. Folders are
 * implied by the paths; archive details (entry order, times, owners,
 * compression) do not count, so `iommu-atlas capture` and `capture.sh`
 * captures of the same host hash alike. Paths in `leaveOut` are skipped.
 */
export function treeHash(tree: FileTree, leaveOut: ReadonlySet<string> = new Set()): string {
  const h = createHash("sha256");
  const keys = [...tree.keys()].filter((k) => !leaveOut.has(k)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const len = Buffer.alloc(8);
  for (const key of keys) {
    const e = tree.get(key)!;
    if (e.kind === "dir") continue;
    const body = e.kind === "file" ? e.data : Buffer.from(e.target, "utf8");
    // kind, path, length-prefixed content: no two trees share a byte stream
    h.update(e.kind === "file" ? "f" : "l");
    h.update(key);
    h.update("\0");
    len.writeBigUInt64LE(BigInt(body.length));
    h.update(len);
    h.update(body);
  }
  return h.digest("hex");
}
