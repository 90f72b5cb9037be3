import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { predict } from "../../core/iommu/predict.js";
import { unitsToJson } from "../../core/program/units-json.js";
import type { UnitsJson } from "../../core/program/units-json.js";
import { snapshotFromSysfs } from "../../core/sources/from-sysfs.js";
import { BUNDLED_EXAMPLE } from "../load.js";
import type { Output } from "../output.js";
import { decodeArchive } from "../sysfs/archive.js";
import { units } from "./units.js";

const ORACLE = path.resolve("..", "shared", "oracle-cases");
const archives = existsSync(ORACLE) ? readdirSync(ORACLE).filter((n) => n.endsWith(".sysfs.tar.gz")).sort() : [];

function capture(): Output & { text: () => string } {
  const out: string[] = [];
  return { out: (s) => void out.push(s), err: (s) => void out.push(s), color: false, text: () => out.join("\n") };
}

describe("units", () => {
  it("lists the DMAR unit of the bundled capture with its scopes and coverage", async () => {
    const io = capture();
    expect(await units({ source: BUNDLED_EXAMPLE }, io)).toBe(0);
    const text = io.text();
    expect(text).toMatch(/^dmar0 {2}DRHD at 0x30 {2}register base 0xfed90000 {2}segment 0000 {2}scopes only$/m);
    expect(text).toMatch(/scope bridge 00:02\.0 → 0000:00:02\.0 \(buses 01-02\)/);
    expect(text).toMatch(/scope ioapic 0 at ff:00\.0/);
    expect(text).toMatch(/covers 10 functions/);
    expect(text).not.toMatch(/not covered/);
  });

  it("--json has the units@1 schema", async () => {
    const io = capture();
    await units({ source: BUNDLED_EXAMPLE, json: true }, io);
    const data = JSON.parse(io.text()) as UnitsJson;
    expect(data.schema).toBe("iommu-atlas/units@1");
    expect(data.iommu).toBe("intel");
    expect(data.units.map((u) => [u.kind, u.name])).toEqual([["intel", "dmar0"]]);
    const u = data.units[0]!;
    expect(u.kind === "intel" && u.scopes.map((s) => s.function)).toEqual([null, "0000:00:00.0", "0000:00:02.0", "0000:00:03.0", "0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3"]);
    expect(data.issues).toEqual([]);
  });

  it("an IOMMU turned off on the command line covers nothing, and says why", async () => {
    const io = capture();
    await units({ source: BUNDLED_EXAMPLE, json: true, cmdline: "intel_iommu=off" }, io);
    const data = JSON.parse(io.text()) as UnitsJson;
    expect(data.iommuOff).toBe(true);
    expect(data.units.map((u) => u.functions.length)).toEqual([0]);
    expect(new Set(data.uncovered.map((u) => u.reason))).toEqual(new Set(["iommu-off"]));
  });
});

describe.skipIf(archives.length === 0)("units of every oracle case agree with the kernel's groups (skipped when ../shared/oracle-cases is absent)", () => {
  it.each(archives)("%s", (name) => {
    const file = path.join(ORACLE, name);
    const snapshot = snapshotFromSysfs(decodeArchive(new Uint8Array(readFileSync(file)), file));
    const data = unitsToJson(snapshot, name, predict(snapshot));
    expect(data.issues).toEqual([]);
    const covered = data.units.flatMap((u) => u.functions).sort();
    const grouped = [...(snapshot.kernelGroups?.values() ?? [])].flat().sort();
    expect(covered).toEqual(grouped);
    // every function is either covered or listed with its reason
    const uncovered = data.uncovered.map((u) => u.bdf);
    expect([...covered, ...uncovered].sort()).toEqual([...snapshot.topology.functions.keys()].sort());
    if (name.endsWith("-amd.sysfs.tar.gz")) {
      expect(data.iommu).toBe("amd");
      expect(data.units.map((u) => u.kind === "amd" && u.iommuBdf)).toEqual(["0000:00:01.0"]);
      expect(data.uncovered).toContainEqual(expect.objectContaining({ bdf: "0000:00:01.0", reason: "iommu-itself" }));
    } else {
      expect(data.iommu).toBe("intel");
    }
  });
});
