import { describe, expect, it } from "vitest";
import { encodeDmar, encodeDrhd, encodeIvhd, encodeIvrs, ivhdAliasEntry, ivhdEntry4 } from "../acpi/encode.js";
import { SCOPE_BRIDGE, SCOPE_ENDPOINT } from "../acpi/dmar.js";
import { IVHD_DEV_ALIAS_RANGE, IVHD_DEV_RANGE_END, IVHD_DEV_SELECT } from "../acpi/ivrs.js";
import { predict } from "../iommu/predict.js";
import { fnInput, parts, snapshotOf } from "../testing/topology-builder.js";
import { unitsToJson } from "./units-json.js";

const machine = [
  fnInput("00:00.0", parts.hostBridge()),
  fnInput("00:02.0", { classCode: 0x030000 }),
  fnInput("00:1c.0", parts.rootPort(1)),
  fnInput("01:00.0", parts.endpoint()),
  fnInput("00:1f.0", parts.conventional()),
];

describe("unitsToJson", () => {
  it("Intel: scope-only units come first (reverse table order), INCLUDE_PCI_ALL last; a unit with nothing present is ignored", () => {
    const dmar = encodeDmar([
      encodeDrhd({ registerBase: 0xfed90000n, scopes: [{ type: SCOPE_ENDPOINT, startBus: 0, path: [[2, 0]] }] }),
      encodeDrhd({ registerBase: 0xfed91000n, scopes: [{ type: SCOPE_BRIDGE, startBus: 0, path: [[0x1d, 0]] }] }),
      encodeDrhd({ includeAll: true, registerBase: 0xfed92000n }),
    ]);
    const snap = snapshotOf(machine, { acpi: { dmar } });
    const data = unitsToJson(snap, "synthetic", predict(snap));
    expect(data.units.map((u) => u.kind === "intel" && [u.name, u.registerBase, u.includeAll, u.ignored, u.functions])).toEqual([
      ["dmar1", "0xfed91000", false, true, []],
      ["dmar0", "0xfed90000", false, false, ["0000:00:02.0"]],
      ["dmar2", "0xfed92000", true, false, ["0000:00:00.0", "0000:00:1c.0", "0000:00:1f.0", "0000:01:00.0"]],
    ]);
    const ignored = data.units[0]!;
    expect(ignored.kind === "intel" && ignored.scopes.map((s) => [s.typeName, s.path, s.function])).toEqual([["bridge", ["1d.0"], null]]);
    expect(data.uncovered).toEqual([]);
  });

  it("Intel: a function outside every scope is listed as not covered", () => {
    const dmar = encodeDmar([encodeDrhd({ registerBase: 0xfed90000n, scopes: [{ type: SCOPE_BRIDGE, startBus: 0, path: [[0x1c, 0]] }] })]);
    const snap = snapshotOf(machine, { acpi: { dmar } });
    const data = unitsToJson(snap, "synthetic", predict(snap));
    expect(data.units[0]!.functions).toEqual(["0000:00:1c.0", "0000:01:00.0"]);
    expect(data.units[0]!.kind === "intel" && data.units[0]!.scopes[0]!.buses).toEqual({ secondary: 1, subordinate: 1 });
    expect(data.uncovered.map((u) => [u.bdf, u.reason, u.text])).toEqual([
      ["0000:00:00.0", "not-covered", "no IOMMU unit covers it"],
      ["0000:00:02.0", "not-covered", "no IOMMU unit covers it"],
      ["0000:00:1f.0", "not-covered", "no IOMMU unit covers it"],
    ]);
  });

  it("AMD: ranges, alias runs and the IOMMU's own function", () => {
    const ivrs = encodeIvrs([
      encodeIvhd({
        type: 0x10,
        iommuBdf: 0x0002 << 3,
        entries: [ivhdEntry4(IVHD_DEV_SELECT, 0x0000), ivhdEntry4(IVHD_DEV_SELECT, 0x0010), ivhdEntry4(IVHD_DEV_SELECT, 0x00e0), ivhdAliasEntry(IVHD_DEV_ALIAS_RANGE, 0x0100, 0x0100), ivhdEntry4(IVHD_DEV_RANGE_END, 0x01ff)],
      }),
    ]);
    const snap = snapshotOf(machine, { acpi: { ivrs } });
    const data = unitsToJson(snap, "synthetic", predict(snap));
    const u = data.units[0]!;
    expect(u.kind).toBe("amd");
    if (u.kind !== "amd") return;
    expect([u.name, u.type, u.iommuBdf, u.lastDevid]).toEqual(["ivhd0", "0x10", "0000:00:02.0", "01:1f.7"]);
    expect(u.ranges).toEqual([
      { start: "00:00.0", end: "00:00.0" },
      { start: "00:02.0", end: "00:02.0" },
      { start: "00:1c.0", end: "00:1c.0" },
      { start: "01:00.0", end: "01:1f.7" },
    ]);
    expect(u.aliases).toEqual([{ start: "01:00.0", end: "01:1f.7", alias: "01:00.0" }]);
    expect(u.functions).toEqual(["0000:00:00.0", "0000:00:1c.0", "0000:01:00.0"]);
    expect(data.uncovered.map((x) => [x.bdf, x.reason])).toEqual([
      ["0000:00:02.0", "iommu-itself"],
      ["0000:00:1f.0", "not-covered"],
    ]);
  });

  it("no ACPI table: one assumed unit and a warning", () => {
    const snap = snapshotOf(machine);
    const data = unitsToJson(snap, "synthetic", predict(snap));
    expect(data.iommu).toBe("assumed");
    expect(data.units.map((u) => [u.kind, u.functions.length])).toEqual([["assumed", 5]]);
    expect(data.warnings).toEqual(["no DMAR or IVRS table in the source: assuming one IOMMU that covers every function"]);
  });

  it("a malformed table shows its issues with byte offsets", () => {
    const dmar = encodeDmar([encodeDrhd({ includeAll: true, registerBase: 0n })]);
    const snap = snapshotOf(machine, { acpi: { dmar } });
    const data = unitsToJson(snap, "synthetic", predict(snap));
    expect(data.issues).toEqual([{ table: "DMAR", code: "drhd-register-base-zero", severity: "error", offset: 48, message: "DMAR offset 0x30: DRHD register base address is 0" }]);
  });
});
