import { describe, expect, it } from "vitest";
import type { FileTree, FileTreeEntry } from "../../core/fs/file-tree.js";
import { encodeArchive } from "../sysfs/archive.js";
import { SourceError } from "../sysfs/errors.js";
import { decodeMachineTree, encodeMachineTree } from "./machine-tree.js";

const bytes = (s: string): FileTreeEntry => ({ kind: "file", data: new TextEncoder().encode(s) });

const tree: FileTree = new Map<string, FileTreeEntry>([
  ["sys", { kind: "dir" }],
  ["sys/bus/pci/devices/0000:00:1f.0", { kind: "symlink", target: "../../../devices/pci0000:00/0000:00:1f.0" }],
  ["sys/devices/pci0000:00/0000:00:1f.0/config", { kind: "file", data: Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff) }],
  ["sys/devices/pci0000:00/0000:00:1f.0/class", bytes("0x060100\n")],
  ["sys/devices/pci0000:00/0000:00:1f.0/empty", bytes("")],
  ["sys/firmware/acpi/tables/DMAR", bytes("DMAR…ünïcode path target")],
]);

const plain = (t: FileTree): [string, unknown][] =>
  [...t].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, e]) => [k, e.kind === "file" ? [...e.data] : e]);

describe("stored machine trees", () => {
  it("read back as the tree written, entry for entry, and the same tree packs to the same bytes", () => {
    const packed = encodeMachineTree(tree);
    expect(String.fromCharCode(...packed.subarray(0, 4))).toBe("IAMT");
    expect(plain(decodeMachineTree(packed, "m"))).toEqual(plain(tree));
    expect(encodeMachineTree(new Map([...tree].reverse()))).toEqual(packed);
  });

  it("still reads the capture archives older databases hold", () => {
    expect(plain(decodeMachineTree(encodeArchive(tree), "m"))).toEqual(plain(tree));
  });

  it("says which stored machine is damaged, and where, rather than returning part of it", () => {
    const packed = encodeMachineTree(tree);
    const cut = packed.subarray(0, packed.length - 10);
    expect(() => decodeMachineTree(cut, "stored machine 0123")).toThrow(SourceError);
    expect(() => decodeMachineTree(cut, "stored machine 0123")).toThrow(/^stored machine 0123: stored tree/);
    const future = Uint8Array.from(packed);
    future[4] = 9;
    expect(() => decodeMachineTree(future, "m")).toThrow(/^m: stored tree in format 9, which this version does not read/);
  });
});
