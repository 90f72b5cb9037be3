/**
 * lspci text carries no DMAR or IVRS table: the platform is inferred from
 * the functions, and every inference is said. Checked against the kernel's
 * own groups in the QEMU oracle captures, rendered as lspci text.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decodeArchive } from "../../cli/sysfs/archive.js";
import { snapshotFromLspci } from "../lspci/index.js";
import { renderLspciHex } from "../lspci/render-hex.js";
import { snapshotFromSysfs } from "../sources/from-sysfs.js";
import { predict } from "./predict.js";

const fixtures = path.resolve("src", "core", "lspci", "fixtures", "oracle");
const oracleDir = path.resolve("..", "shared", "oracle-cases");
const archives = [
  ...readdirSync(fixtures).filter((f) => f.endsWith("-amd.sysfs.tar.gz")).map((f) => path.join(fixtures, f)),
  ...(existsSync(oracleDir) ? readdirSync(oracleDir).filter((f) => f.endsWith("-amd.sysfs.tar.gz")).map((f) => path.join(oracleDir, f)) : []),
];

describe("a QEMU guest's emulated AMD IOMMU behind the q35 host bridge, as lspci text", () => {
  it("there are AMD captures to check", () => {
    expect(archives.length).toBeGreaterThan(0);
  });

  it.each(archives.map((a) => [path.basename(a), a]))("%s: the host bridge is grouped, the IOMMU is not, the groups are the kernel's", (_n, file) => {
    const captured = snapshotFromSysfs(decodeArchive(new Uint8Array(readFileSync(file)), file));
    const r = snapshotFromLspci(renderLspciHex(captured));
    if (!r.ok) throw new Error(r.reason);
    const p = predict(r.snapshot, { kernel: { major: 6, minor: 1 } });
    expect(p.layout.kind).toBe("amd-inferred");
    expect(p.layout.inferences?.map((i) => i.code)).toEqual(["amd-iommu-emulated"]);
    expect(p.warnings.some((w) => w.includes("QEMU guest with an emulated AMD IOMMU"))).toBe(true);
    const kernel = [...(captured.kernelGroups ?? new Map())].map(([id, members]) => [id, [...members].sort()]);
    const predicted = p.groups.groups.map((g) => [g.id, [...g.members].sort()]);
    expect(predicted).toEqual(kernel);
  });
});
