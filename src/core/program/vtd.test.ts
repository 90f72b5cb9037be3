import { describe, expect, it } from "vitest";
import { IommuDomain } from "./domain.js";
import {
  Translation,
  VTD_BEYOND_MGAW,
  VTD_CONTEXT_NOT_PRESENT,
  VTD_READ_NOT_SET,
  VTD_ROOT_NOT_PRESENT,
  VTD_SM_BEYOND_MAX,
  VTD_SM_CONTEXT_NOT_PRESENT,
  VTD_SM_PASID_ENTRY_NOT_PRESENT,
  VTD_SM_ROOT_NOT_PRESENT,
  VTD_SM_SL_PERMISSION,
  VTD_WRITE_NOT_SET,
} from "./faults.js";
import { formatFaultCode } from "./messages.js";
import { PERM_RW, PTE_READ, SIZE_2M } from "./page-table.js";
import { CONTEXT_TT_MULTI_LEVEL, CONTEXT_TT_PASS_THROUGH, PASID_PGTT_PASS_THROUGH, PASID_PGTT_SECOND_LEVEL, VtdPasidTable, VtdUnitModel, awField } from "./vtd.js";

const RID_0201 = 0x0208;
const RID_0202 = 0x0210;

function legacyUnit(domain: IommuDomain, tt = CONTEXT_TT_MULTI_LEVEL): VtdUnitModel {
  const unit = new VtdUnitModel("dmar0", "legacy");
  unit.setContext(RID_0201, { did: 1, tt, aw: awField(domain.addressWidth), domain });
  return unit;
}

describe("VT-d legacy lookup (hw-models §2.1–2.3)", () => {
  const out = new Translation();

  it("a bus with no root entry faults 0x1, a devfn with no context entry 0x2", () => {
    const d = new IommuDomain("vm1");
    const unit = legacyUnit(d);
    expect(unit.translate(0x0308, 0, "read", out).fault).toBe(VTD_ROOT_NOT_PRESENT);
    expect(unit.translate(RID_0202, 0, "read", out).fault).toBe(VTD_CONTEXT_NOT_PRESENT);
    expect(formatFaultCode(out.fault!)).toBe("fault reason 0x02: Present bit in context entry is clear");
    expect(unit.roots()).toEqual([{ bus: 2, lower: true, upper: false }]);
  });

  it("translates a mapped IOVA through the domain's tables and names the DID", () => {
    const d = new IommuDomain("vm1");
    d.map(SIZE_2M, 0x7700_0000, SIZE_2M, PERM_RW);
    const unit = legacyUnit(d);
    const r = unit.translate(RID_0201, SIZE_2M + 0x123, "write", out);
    expect([r.ok, r.address, r.domainId, r.domain?.name, r.unit, r.level, r.pageSize]).toEqual([true, 0x7700_0123, 1, "vm1", "dmar0", 2, SIZE_2M]);
  });

  it("unmapped IOVAs and missing permissions fault 0x6 for reads and 0x5 for writes", () => {
    const d = new IommuDomain("vm1");
    d.map(0x1000, 0x2000, 0x1000, PTE_READ);
    const unit = legacyUnit(d);
    expect(unit.translate(RID_0201, 0x9000, "read", out).fault).toBe(VTD_READ_NOT_SET);
    expect(unit.translate(RID_0201, 0x9000, "write", out).fault).toBe(VTD_WRITE_NOT_SET);
    expect(unit.translate(RID_0201, 0x1000, "write", out).fault).toBe(VTD_WRITE_NOT_SET);
    expect(unit.translate(RID_0201, 0x1000, "read", out).ok).toBe(true);
  });

  it("an IOVA beyond the context entry's address width faults 0x4", () => {
    const d = new IommuDomain("vm39", { addressWidth: 39 });
    const unit = legacyUnit(d);
    expect(unit.context(RID_0201)?.aw).toBe(1);
    expect(unit.translate(RID_0201, 2 ** 39, "read", out).fault).toBe(VTD_BEYOND_MGAW);
    expect(unit.translate(RID_0201, 2 ** 39 - 4096, "read", out).fault).toBe(VTD_READ_NOT_SET);
  });

  it("pass-through skips the walk but still needs a present context entry", () => {
    const unit = legacyUnit(new IommuDomain("identity", { kind: "identity" }), CONTEXT_TT_PASS_THROUGH);
    const r = unit.translate(RID_0201, 0xdead_b000, "write", out);
    expect([r.ok, r.passThrough, r.address]).toEqual([true, true, 0xdead_b000]);
    expect(unit.translate(RID_0202, 0xdead_b000, "write", out).fault).toBe(VTD_CONTEXT_NOT_PRESENT);
  });

  it("clearing a context entry keeps the bus's root entry: 0x2, not 0x1", () => {
    const unit = legacyUnit(new IommuDomain("vm1"));
    unit.clearContext(RID_0201);
    expect(unit.contextPresent(RID_0201)).toBe(false);
    expect(unit.translate(RID_0201, 0, "read", out).fault).toBe(VTD_CONTEXT_NOT_PRESENT);
  });
});

describe("VT-d scalable-mode lookup", () => {
  const out = new Translation();
  const scalable = (domain: IommuDomain, pgtt = PASID_PGTT_SECOND_LEVEL) => {
    const unit = new VtdUnitModel("dmar0", "scalable");
    const pt = new VtdPasidTable("0000:02:01.0");
    pt.entry = { did: 2, pgtt, aw: awField(domain.addressWidth), domain };
    unit.setScalableContext(RID_0201, pt);
    return { unit, pt };
  };

  it("root halves, context entries and the RID_PASID entry fault with the SM reasons", () => {
    const { unit, pt } = scalable(new IommuDomain("vm1"));
    expect(unit.translate(0x0308, 0, "read", out).fault).toBe(VTD_SM_ROOT_NOT_PRESENT);
    // devfn 0x80 lives in the upper half, which has no context table yet
    expect(unit.translate(0x0280, 0, "read", out).fault).toBe(VTD_SM_ROOT_NOT_PRESENT);
    expect(unit.translate(RID_0202, 0, "read", out).fault).toBe(VTD_SM_CONTEXT_NOT_PRESENT);
    pt.entry = undefined;
    expect(unit.translate(RID_0201, 0, "read", out).fault).toBe(VTD_SM_PASID_ENTRY_NOT_PRESENT);
    expect(formatFaultCode(out.fault!)).toBe("fault reason 0x59: SM: Present bit in PASID Table Entry is clear");
  });

  it("walks the second-level table, faulting 0x79 on a missing page and 0x83 beyond the width", () => {
    const d = new IommuDomain("vm1", { addressWidth: 39 });
    d.map(0, 0x4000_0000, 0x1000, PERM_RW);
    const { unit } = scalable(d);
    expect(unit.translate(RID_0201, 0x10, "read", out).address).toBe(0x4000_0010);
    expect(out.domainId).toBe(2);
    expect(unit.translate(RID_0201, 0x1000, "read", out).fault).toBe(VTD_SM_SL_PERMISSION);
    expect(unit.translate(RID_0201, 2 ** 40, "read", out).fault).toBe(VTD_SM_BEYOND_MAX);
  });

  it("PGTT pass-through lets everything through", () => {
    const { unit } = scalable(new IommuDomain("identity", { kind: "identity" }), PASID_PGTT_PASS_THROUGH);
    expect(unit.translate(RID_0201, 0x1234_5000, "write", out)).toMatchObject({ ok: true, passThrough: true, address: 0x1234_5000 });
  });
});
