import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { Parser } from "tar";
import type { ReadEntry } from "tar";
import { describe, expect, it } from "vitest";
import { readCapture } from "../../core/capture/index.js";
import type { FileTreeEntry } from "../../core/fs/file-tree.js";
import { snapshotFromSysfs } from "../../core/sources/from-sysfs.js";
import { FunctionTable } from "../../core/topology/function-table.js";
import { readSource } from "./archive.js";

const SHARED = path.resolve("..", "shared", "oracle-cases");
const archives = (() => {
  try {
    return readdirSync(SHARED).filter((f) => f.endsWith(".tar.gz"));
  } catch {
    return [];
  }
})();

/** the reading before the streaming reader: whole archive inflated, then node-tar's parser */
function nodeTarTree(bytes: Uint8Array): Map<string, FileTreeEntry> {
  const tree = new Map<string, FileTreeEntry>();
  const parser = new Parser();
  const key = (p: string): string => p.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
  parser.on("entry", (e: ReadEntry) => {
    const k = key(e.path);
    if (k === "" || k === ".") return e.resume();
    if (e.type === "Directory") tree.set(k, { kind: "dir" });
    else if (e.type === "SymbolicLink") tree.set(k, { kind: "symlink", target: e.linkpath ?? "" });
    else if (e.type === "File" || e.type === "OldFile") {
      const parts: Buffer[] = [];
      e.on("data", (d: Buffer) => parts.push(d));
      e.on("end", () => tree.set(k, { kind: "file", data: new Uint8Array(Buffer.concat(parts)) }));
      return;
    }
    e.resume();
  });
  parser.end(Buffer.from(gunzipSync(bytes)));
  return tree;
}

/** a model as data: maps (the topology's function table too) and typed arrays spelled out */
const model = (tree: ReadonlyMap<string, FileTreeEntry>): string =>
  JSON.stringify(snapshotFromSysfs(tree), (_k, v: unknown) =>
    v instanceof Map || v instanceof FunctionTable ? [...v.entries()] : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v,
  );

describe.skipIf(archives.length === 0)("the streaming reader on every oracle archive (skipped when ../shared/oracle-cases is absent)", () => {
  it.each(archives)("%s: the same model from the CLI's streamed read, the in-memory read and node-tar", async (name) => {
    const file = path.join(SHARED, name);
    const bytes = new Uint8Array(readFileSync(file));
    const old = model(nodeTarTree(bytes));
    expect(old).toContain('"functions":[["0000:');
    expect(model(await readSource(file))).toBe(old);
    expect(model(readCapture(bytes))).toBe(old);
  });
});
