/**
 * What Linux programs on attach, per IOMMU and mode, on small synthetic
 * machines (kernel-spec §10 TV6, TV9, TV21), and the hardware lookups that
 * follow from it.
 */
import { describe, expect, it } from "vitest";
import { encodeDmar, encodeDrhd, encodeIvhd, encodeIvrs, ivhdAliasEntry, ivhdEntry4 } from "../acpi/encode.js";
import { IVHD_DEV_ALIAS, IVHD_DEV_ALL } from "../acpi/ivrs.js";
import { SCOPE_BRIDGE } from "../acpi/dmar.js";
import { predict } from "../iommu/predict.js";
import { fnInput, parts, snapshotOf } from "../testing/topology-builder.js";
import type { FunctionInput } from "../topology/build.js";
import {
  AMD_IO_PAGE_FAULT,
  NO_UNIT,
  SMMU_C_BAD_STREAMID,
  SMMU_STE_ABORT,
  Translation,
  VTD_CONTEXT_NOT_PRESENT,
  VTD_SM_CONTEXT_NOT_PRESENT,
} from "./faults.js";
import { machineFromPrediction } from "./machine.js";
import type { MachineOptions } from "./machine.js";
import { formatProgramIssue } from "./messages.js";
import { PERM_RW } from "./page-table.js";

const ACS_OK = { cap: 0x5f, ctrl: 0x1d };
const INCLUDE_ALL_DMAR = encodeDmar([encodeDrhd({ includeAll: true, registerBase: 0xfed90000n })]);

/** TV6: 00:1e.0 root port → 01:00.0 PCIe-to-PCI bridge → conventional 02:01.0 and 02:02.0 */
const tv6: FunctionInput[] = [
  fnInput("00:00.0", parts.hostBridge()),
  fnInput("00:1e.0", parts.rootPort(1, 2)),
  fnInput("01:00.0", parts.pcieToPci(1, 2)),
  fnInput("02:01.0", parts.conventional()),
  fnInput("02:02.0", parts.conventional()),
];

function machine(inputs: FunctionInput[], acpi: { dmar?: Uint8Array; ivrs?: Uint8Array }, opts: MachineOptions & { kernel?: string } = {}) {
  const p = predict(snapshotOf(inputs, { acpi, osrelease: opts.kernel ?? "6.1.0" }));
  return machineFromPrediction(p, opts);
}

const rids = (entries: readonly { rid: number }[]): number[] => entries.map((e) => e.rid);

describe("VT-d legacy: a context entry for every DMA alias", () => {
  it("TV6: attaching 02:01.0 programs 02:01.0 and the bridge alias 02:00.0", () => {
    const m = machine(tv6, { dmar: INCLUDE_ALL_DMAR });
    const vm1 = m.createDomain("vm1");
    vm1.map(0x1000, 0x5555_0000, 0x1000, PERM_RW);
    const r = m.attach("0000:02:01.0", vm1);
    expect(r.unit).toBe("dmar0");
    expect(r.policy).toBe("every-alias");
    expect(r.entries.map((e) => [e.rid, e.action, e.causes.map((c) => c.cause)])).toEqual([
      [0x0208, "written", ["own"]],
      [0x0200, "written", ["bridge"]],
    ]);
    expect(r.issues).toEqual([]);
    expect(m.roots()).toEqual([{ unit: "dmar0", bus: 2, lower: true, upper: false }]);
    // DMA seen as the bridge's (secbus, 00.0) and as its own RID both reach vm1
    const out = new Translation();
    expect(m.translate(0x0200, 0x1008, "read", out)).toMatchObject({ ok: true, address: 0x5555_0008, domainId: 1 });
    expect(m.translate(0x0208, 0x1008, "write", out).ok).toBe(true);
    expect(m.translate(0x0210, 0x1008, "read", out).fault).toBe(VTD_CONTEXT_NOT_PRESENT);
  });

  it("two domains on one requester ID: a conflict, the first entry kept", () => {
    const m = machine(tv6, { dmar: INCLUDE_ALL_DMAR });
    const a = m.createDomain("a");
    const b = m.createDomain("b");
    m.attach("0000:02:01.0", a);
    const r = m.attach("0000:02:02.0", b);
    expect(r.entries.map((e) => [e.rid, e.action])).toEqual([
      [0x0210, "written"],
      [0x0200, "kept-other"],
    ]);
    expect(r.issues).toEqual([
      expect.objectContaining({ code: "rid-conflict", unit: "dmar0", rid: 0x0200, bdf: "0000:02:02.0", domain: "b", heldBy: "0000:02:01.0", heldDomain: "a", outcome: "kept-first" }),
    ]);
    expect(formatProgramIssue(r.issues[0]!)).toMatch(/requester ID 02:00\.0 is claimed by domain 'b' for 0000:02:02\.0/);
    expect(m.translate(0x0200, 0, "read").domain?.name).toBe("a");
    expect(m.domainIds(a)).toEqual([{ unit: "dmar0", id: 1 }]);
    expect(m.domainIds(b)).toEqual([{ unit: "dmar0", id: 2 }]);
  });

  it("one domain shared is no conflict; detaching one function clears the shared alias entry all the same", () => {
    const m = machine(tv6, { dmar: INCLUDE_ALL_DMAR });
    const vm = m.createDomain("vm");
    m.attach("0000:02:01.0", vm);
    const r = m.attach("0000:02:02.0", vm);
    expect(r.entries.map((e) => e.action)).toEqual(["written", "shared"]);
    expect(r.issues).toEqual([]);
    const d = m.detach("0000:02:01.0");
    expect(d.cleared).toEqual([0x0208, 0x0200]);
    expect(d.issues).toEqual([{ code: "entry-cleared-in-use", unit: "dmar0", rid: 0x0200, bdf: "0000:02:01.0", users: ["0000:02:02.0"] }]);
    expect(m.translate(0x0200, 0, "read").fault).toBe(VTD_CONTEXT_NOT_PRESENT);
    expect(m.translate(0x0210, 0, "read").fault?.name).toBe("pte-read-not-set");
    expect(m.attachedDomain("0000:02:01.0")).toBeUndefined();
  });

  it("re-attaching moves the function: old entries cleared, the old DID freed", () => {
    const m = machine(tv6, { dmar: INCLUDE_ALL_DMAR });
    const a = m.createDomain("a");
    const b = m.createDomain("b");
    m.attach("0000:02:01.0", a);
    m.attach("0000:02:01.0", b);
    expect(m.entries().map((e) => [e.rid, e.kind === "vtd-context" && e.domain, e.kind === "vtd-context" && e.did])).toEqual([
      [0x0200, "b", 1],
      [0x0208, "b", 1],
    ]);
    expect(m.domainIds(a)).toEqual([]);
  });

  it("an identity domain programs pass-through entries", () => {
    const m = machine(tv6, { dmar: INCLUDE_ALL_DMAR });
    m.attach("0000:02:01.0", m.createDomain("identity", { kind: "identity" }));
    expect(m.entries().map((e) => e.kind === "vtd-context" && e.tt)).toEqual([2, 2]);
    expect(m.translate(0x0200, 0x1234_0000, "write")).toMatchObject({ ok: true, passThrough: true, address: 0x1234_0000 });
  });

  it("a function no unit covers cannot be attached, and its requester ID reaches no unit", () => {
    const dmar = encodeDmar([encodeDrhd({ registerBase: 0xfed90000n, scopes: [{ type: SCOPE_BRIDGE, startBus: 0, path: [[0x1e, 0]] }] })]);
    const m = machine([...tv6, fnInput("00:1f.0", parts.conventional())], { dmar });
    const r = m.attach("0000:00:1f.0", m.createDomain("vm"));
    expect(r.issues).toEqual([{ code: "no-iommu", bdf: "0000:00:1f.0", reason: "not-covered" }]);
    expect(m.translate(0x00f8, 0, "read").fault).toBe(NO_UNIT);
    expect(m.attach("0000:09:00.0", m.domain("vm")!).issues).toEqual([{ code: "unknown-function", bdf: "0000:09:00.0" }]);
  });
});

describe("VT-d scalable mode", () => {
  it("6.10+: only the own requester ID; the bridge alias is skipped and its DMA faults 0x41", () => {
    const m = machine(tv6, { dmar: INCLUDE_ALL_DMAR }, { mode: "scalable", kernel: "6.10.0" });
    const vm1 = m.createDomain("vm1");
    const r = m.attach("0000:02:01.0", vm1);
    expect(r.policy).toBe("own-and-mask");
    expect(rids(r.entries)).toEqual([0x0208]);
    expect(r.skipped).toEqual([{ rid: 0x0200, cause: "bridge", via: "0000:01:00.0", rule: "pcie-to-pci" }]);
    expect(m.domainIds(vm1)).toEqual([{ unit: "dmar0", id: 2 }]);
    expect(m.translate(0x0200, 0, "read").fault).toBe(VTD_SM_CONTEXT_NOT_PRESENT);
    const e = m.entries();
    expect(e).toEqual([expect.objectContaining({ kind: "vtd-sm-context", rid: 0x0208, half: "lower", pasidTableOf: "0000:02:01.0", pasid: { did: 2, pgtt: 2, aw: 2, domain: "vm1" } })]);
  });

  it("before 6.10: every alias, each pointing at the device's PASID table", () => {
    const m = machine(tv6, { dmar: INCLUDE_ALL_DMAR }, { mode: "scalable", kernel: "6.1.0" });
    const r = m.attach("0000:02:01.0", m.createDomain("vm1"));
    expect(r.policy).toBe("every-alias");
    expect(rids(r.entries)).toEqual([0x0208, 0x0200]);
  });

  it("6.10+ keeps quirk (alias-mask) requester IDs: TV9 Marvell ghost function 1", () => {
    const inputs = [fnInput("00:1c.0", parts.rootPort(5)), fnInput("05:00.0", { pcieType: 0, vendor: 0x1b4b, device: 0x9230 })];
    const m = machine(inputs, { dmar: INCLUDE_ALL_DMAR }, { mode: "scalable", kernel: "6.10.0" });
    const r = m.attach("0000:05:00.0", m.createDomain("vm1"));
    expect(r.entries.map((e) => [e.rid, e.causes[0]!.cause])).toEqual([
      [0x0500, "own"],
      [0x0501, "quirk"],
    ]);
    // detaching tears the PASID entry down; the context entries stay (set up at probe)
    expect(m.detach("0000:05:00.0").cleared).toEqual([0x0500, 0x0501]);
    expect(m.translate(0x0501, 0, "read").fault?.code).toBe(0x59);
  });
});

describe("AMD-Vi: the DTE cloned to the IVRS alias and every walk alias (TV21)", () => {
  const inputs = [
    fnInput("00:00.0", parts.hostBridge()),
    fnInput("00:02.0", parts.rootPort(3)),
    fnInput("03:00.0", parts.endpoint(true, ACS_OK)),
    fnInput("03:00.1", parts.endpoint(true, ACS_OK)),
  ];
  const ivrs = (alias: number) => encodeIvrs([encodeIvhd({ type: 0x10, iommuBdf: 0x0008, entries: [ivhdEntry4(IVHD_DEV_ALL, 0), ivhdAliasEntry(IVHD_DEV_ALIAS, 0x0301, alias)] })]);

  it("a same-bus IVRS alias gets a copy of the DTE, as alias table and alias mask say", () => {
    const m = machine(inputs, { ivrs: ivrs(0x0300) });
    expect(m.arch).toBe("amd");
    const vm1 = m.createDomain("vm1");
    vm1.map(0, 0x4000_0000, 0x1000, PERM_RW);
    const r = m.attach("0000:03:00.1", vm1);
    expect(r.entries.map((e) => [e.rid, e.causes.map((c) => c.cause)])).toEqual([
      [0x0301, ["own"]],
      [0x0300, ["ivrs", "quirk"]],
    ]);
    expect(m.entries().map((e) => e.kind === "amd-dte" && [e.rid, e.domainId, e.mode, e.clonedFrom ?? null])).toEqual([
      [0x0300, 1, 4, "0000:03:00.1"],
      [0x0301, 1, 4, null],
    ]);
    expect(m.translate(0x0300, 0x10, "read")).toMatchObject({ ok: true, address: 0x4000_0010, unit: "ivhd0" });
  });

  it("a cross-bus IVRS alias is cloned too, though it is not a PCI alias", () => {
    const m = machine(inputs, { ivrs: ivrs(0x0200) });
    const r = m.attach("0000:03:00.1", m.createDomain("vm1"));
    expect(r.entries.map((e) => [e.rid, e.causes.map((c) => c.cause)])).toEqual([
      [0x0301, ["own"]],
      [0x0200, ["ivrs"]],
    ]);
    expect(m.translate(0x0200, 0, "read").domain?.name).toBe("vm1");
  });

  it("a clone over another function's DTE is reported; Linux overwrites it", () => {
    const m = machine(inputs, { ivrs: ivrs(0x0300) });
    m.attach("0000:03:00.0", m.createDomain("vm2"));
    const r = m.attach("0000:03:00.1", m.createDomain("vm1"));
    expect(r.issues).toEqual([
      expect.objectContaining({ code: "rid-conflict", rid: 0x0300, heldBy: "0000:03:00.0", heldDomain: "vm2", domain: "vm1", outcome: "overwritten" }),
    ]);
    expect(m.translate(0x0300, 0, "read").domainId).toBe(2);
  });

  it("detach resets the DTE and its clones to the blocked default", () => {
    const m = machine(inputs, { ivrs: ivrs(0x0300) });
    m.attach("0000:03:00.1", m.createDomain("vm1"));
    expect(m.detach("0000:03:00.1").cleared).toEqual([0x0301, 0x0300]);
    expect(m.translate(0x0300, 0, "write")).toMatchObject({ fault: AMD_IO_PAGE_FAULT, domainId: 0, flags: 0x20 });
    expect(m.entries()).toEqual([]);
  });
});

describe("SMMUv3: StreamIDs from every alias; an aliasing StreamID fails the second master", () => {
  it("TV6 on an SMMU: 02:02.0 cannot share 02:00.0's StreamID with 02:01.0", () => {
    const m = machine(tv6, {}, { smmu: {} });
    expect(m.arch).toBe("smmu");
    const vm1 = m.createDomain("vm1");
    vm1.map(0, 0x9000, 0x1000, PERM_RW);
    const first = m.attach("0000:02:01.0", vm1);
    expect(first.entries.map((e) => [e.sid, e.action])).toEqual([
      [0x0208, "written"],
      [0x0200, "written"],
    ]);
    const second = m.attach("0000:02:02.0", vm1);
    expect(second.entries.map((e) => e.action)).toEqual(["refused", "refused"]);
    expect(second.issues).toEqual([expect.objectContaining({ code: "rid-conflict", sid: 0x0200, heldBy: "0000:02:01.0", outcome: "probe-failed" })]);
    expect(m.translate(0x0200, 0x8, "read")).toMatchObject({ ok: true, address: 0x9008, streamId: 0x0200 });
    expect(m.translate(0x0210, 0x8, "read").fault).toBe(SMMU_STE_ABORT);
    expect(m.translate(0x0300, 0x8, "read").fault).toBe(SMMU_C_BAD_STREAMID);
  });

  it("StreamIDs are taken at probe, in scan order: attaching 02:02.0 first does not help it", () => {
    const m = machine(tv6, {}, { smmu: {} });
    const r = m.attach("0000:02:02.0", m.createDomain("vm2"));
    expect(r.issues).toEqual([expect.objectContaining({ code: "rid-conflict", sid: 0x0200, heldBy: "0000:02:01.0", heldDomain: "(not attached)", outcome: "probe-failed" })]);
    expect(m.attach("0000:02:01.0", m.createDomain("vm1")).issues).toEqual([]);
  });

  it("an iommu-map that leaves a requester ID out is reported", () => {
    const m = machine(tv6, {}, { smmu: { iommuMap: [{ ridBase: 0x0208, sidBase: 0x10, length: 1 }] } });
    const r = m.attach("0000:02:01.0", m.createDomain("vm1"));
    expect(r.entries.map((e) => e.sid)).toEqual([0x10]);
    expect(r.issues).toEqual([{ code: "no-stream-id", unit: "smmu0", rid: 0x0200, bdf: "0000:02:01.0" }]);
  });
});

describe("translate is cheap", () => {
  it("a million lookups through one reused result stay well under a second or two", () => {
    const m = machine(tv6, { dmar: INCLUDE_ALL_DMAR });
    const vm = m.createDomain("vm");
    vm.map(0, 0x1000_0000, 64 * 4096, PERM_RW, { superpages: false });
    m.attach("0000:02:01.0", vm);
    const out = new Translation();
    let sum = 0;
    const t0 = performance.now();
    for (let i = 0; i < 1_000_000; i++) sum += m.translate(0x0208, (i & 63) * 4096 + 8, "read", out).address;
    const ms = performance.now() - t0;
    expect(sum).toBeGreaterThan(0);
    expect(ms).toBeLessThan(3000);
  });
});
