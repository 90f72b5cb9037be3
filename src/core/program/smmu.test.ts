import { describe, expect, it } from "vitest";
import { IommuDomain } from "./domain.js";
import { SMMU_C_BAD_STE, SMMU_C_BAD_STREAMID, SMMU_F_ADDR_SIZE, SMMU_F_PERMISSION, SMMU_F_TRANSLATION, SMMU_STE_ABORT, Translation } from "./faults.js";
import { formatFaultCode } from "./messages.js";
import { PTE_READ } from "./page-table.js";
import { STE_CFG_S1_TRANSLATE, SmmuStreamTable } from "./smmu.js";

describe("SMMUv3 stream table (hw-models §4)", () => {
  const out = new Translation();

  it("maps requester IDs to StreamIDs through the iommu-map, mask first", () => {
    const smmu = new SmmuStreamTable({ iommuMap: [{ ridBase: 0x100, sidBase: 0x8000, length: 0x100 }], iommuMapMask: 0x1ff });
    expect(smmu.sidOf(0x0108)).toBe(0x8008);
    expect(smmu.sidOf(0x0308)).toBe(0x8008); // masked to 0x108
    expect(smmu.sidOf(0x0008)).toBe(-1);
    expect(new SmmuStreamTable().sidOf(0x0208)).toBe(0x0208);
  });

  it("an unpopulated L2 table gives C_BAD_STREAMID, an invalid STE C_BAD_STE", () => {
    const smmu = new SmmuStreamTable();
    expect(smmu.translate(0x0208, 0, "read", out)).toMatchObject({ fault: SMMU_C_BAD_STREAMID, streamId: 0x0208 });
    expect(formatFaultCode(out.fault!)).toBe("event 0x02 C_BAD_STREAMID");
    smmu.invalidateSte(0x0208);
    expect(smmu.translate(0x0208, 0, "read", out).fault).toBe(SMMU_C_BAD_STE);
    expect(new SmmuStreamTable({ sidBits: 8 }).translate(0x100, 0, "read", out).fault).toBe(SMMU_C_BAD_STREAMID);
  });

  it("default STEs abort with disable_bypass and bypass without it", () => {
    const strict = new SmmuStreamTable();
    strict.ensureL2(0x0200);
    expect(strict.translate(0x0201, 0x1000, "read", out).fault).toBe(SMMU_STE_ABORT);
    const lax = new SmmuStreamTable({ disableBypass: false });
    lax.ensureL2(0x0200);
    expect(lax.translate(0x0201, 0x1000, "read", out)).toMatchObject({ ok: true, passThrough: true, address: 0x1000 });
  });

  it("a translating STE walks the domain: F_TRANSLATION, F_PERMISSION, F_ADDR_SIZE", () => {
    const d = new IommuDomain("vm1", { addressWidth: 39 });
    d.map(0x4000, 0x8_0000, 0x1000, PTE_READ);
    const smmu = new SmmuStreamTable();
    smmu.setSte(0x0208, STE_CFG_S1_TRANSLATE, d);
    expect(smmu.translate(0x0208, 0x4004, "read", out)).toMatchObject({ ok: true, address: 0x8_0004, level: 1 });
    expect(smmu.translate(0x0208, 0x5000, "read", out).fault).toBe(SMMU_F_TRANSLATION);
    expect(smmu.translate(0x0208, 0x4000, "write", out).fault).toBe(SMMU_F_PERMISSION);
    expect(smmu.translate(0x0208, 2 ** 39, "read", out).fault).toBe(SMMU_F_ADDR_SIZE);
    smmu.resetSte(0x0208);
    expect(smmu.translate(0x0208, 0x4004, "read", out).fault).toBe(SMMU_STE_ABORT);
  });
});
