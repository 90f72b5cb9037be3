/**
 * Kernel log lines for IOMMU faults by era (hw-models.md §2.4, §3.3): the
 * same fault record printed as each release printed it.
 */
import { describe, expect, it } from "vitest";
import { AMD_IO_PAGE_FAULT, SMMU_F_TRANSLATION, VTD_CONTEXT_NOT_PRESENT, VTD_SM_CONTEXT_NOT_PRESENT } from "../program/faults.js";
import { amdLogLines, logFormatFor, smmuLogLines, vfBusRangeLine, vtdLogLines, vtdRecord } from "./fault-log.js";
import type { AmdEventRecord } from "./fault-log.js";

const k = (major: number, minor: number) => ({ major, minor });

describe("which format a release prints", () => {
  it("VT-d: two lines before 4.7, PASID from 5.4, NO_PASID from 5.13, the segment in 7.x", () => {
    expect([k(4, 6), k(4, 7), k(5, 3), k(5, 4), k(5, 12), k(5, 13), k(6, 18), k(7, 0)].map((v) => logFormatFor("vtd", v))).toEqual([
      "vtd-two-line",
      "vtd-one-line",
      "vtd-one-line",
      "vtd-pasid",
      "vtd-pasid",
      "vtd-no-pasid",
      "vtd-no-pasid",
      "vtd-segment",
    ]);
  });

  it("AMD: padded addresses before 5.0, the segment from 5.19", () => {
    expect([k(4, 19), k(5, 0), k(5, 18), k(5, 19)].map((v) => logFormatFor("amd", v))).toEqual(["amd-padded", "amd-no-segment", "amd-no-segment", "amd-segment"]);
  });
});

describe("VT-d fault lines", () => {
  const first = vtdRecord("dmar0", 0, 0x0322, 0x7f001040, "write", VTD_CONTEXT_NOT_PRESENT, 0);
  const second = vtdRecord("dmar0", 0, 0xed09, 0xfffd0000, "read", VTD_CONTEXT_NOT_PRESENT, 1);

  it("the record: page address, FRI in FSTS", () => {
    expect(first).toMatchObject({ fi: 0x7f001000, sid: 0x0322, fr: 2, fsts: 0x2, fri: 0 });
    expect(second).toMatchObject({ fsts: 0x102, fri: 1 });
    expect(vtdRecord("dmar0", 0, 1, 0, "read", VTD_CONTEXT_NOT_PRESENT, 8).fri).toBe(0);
  });

  it("every era", () => {
    expect(vtdLogLines(first, VTD_CONTEXT_NOT_PRESENT, "vtd-two-line")).toEqual([
      "dmar: DRHD: handling fault status reg 2",
      "dmar: DMAR:[DMA Write] Request device [03:04.2] fault addr 7f001000",
      "DMAR:[fault reason 02] Present bit in context entry is clear",
    ]);
    expect(vtdLogLines(first, VTD_CONTEXT_NOT_PRESENT, "vtd-one-line")[1]).toBe("DMAR: [DMA Write] Request device [03:04.2] fault addr 7f001000 [fault reason 02] Present bit in context entry is clear");
    expect(vtdLogLines(second, VTD_CONTEXT_NOT_PRESENT, "vtd-pasid")).toEqual([
      "DMAR: DRHD: handling fault status reg 102",
      "DMAR: [DMA Read] Request device [ed:01.1] PASID ffffffff fault addr fffd0000 [fault reason 02] Present bit in context entry is clear",
    ]);
    expect(vtdLogLines(first, VTD_CONTEXT_NOT_PRESENT, "vtd-no-pasid")[1]).toBe("DMAR: [DMA Write NO_PASID] Request device [03:04.2] fault addr 0x7f001000 [fault reason 0x02] Present bit in context entry is clear");
    expect(vtdLogLines(second, VTD_CONTEXT_NOT_PRESENT, "vtd-segment")[1]).toBe("DMAR: [DMA Read NO_PASID] Request device [0000:ed:01.1] fault addr 0xfffd0000 [fault reason 0x02] Present bit in context entry is clear");
  });

  it("scalable-mode reasons were Unknown before 5.4, and decimal", () => {
    const r = vtdRecord("dmar0", 0, 0x0200, 0x1000, "write", VTD_SM_CONTEXT_NOT_PRESENT, 0);
    expect(vtdLogLines(r, VTD_SM_CONTEXT_NOT_PRESENT, "vtd-one-line")[1]).toBe("DMAR: [DMA Write] Request device [02:00.0] fault addr 1000 [fault reason 65] Unknown");
    expect(vtdLogLines(r, VTD_SM_CONTEXT_NOT_PRESENT, "vtd-no-pasid")[1]).toContain("[fault reason 0x41] SM: Present bit in Context Entry is clear");
  });
});

describe("AMD-Vi event lines", () => {
  const unknown: AmdEventRecord = { arch: "amd", unit: "ivhd0", segment: 0, code: 2, devid: 0x0322, domainId: 0, address: 0xfffd0000, flags: 0x20, device: undefined };
  it("an unknown device, by era", () => {
    expect(amdLogLines(unknown, AMD_IO_PAGE_FAULT, "amd-padded")).toEqual(["AMD-Vi: Event logged [IO_PAGE_FAULT device=03:04.2 domain=0x0000 address=0x00000000fffd0000 flags=0x0020]"]);
    expect(amdLogLines(unknown, AMD_IO_PAGE_FAULT, "amd-no-segment")).toEqual(["AMD-Vi: Event logged [IO_PAGE_FAULT device=03:04.2 domain=0x0000 address=0xfffd0000 flags=0x0020]"]);
    expect(amdLogLines(unknown, AMD_IO_PAGE_FAULT, "amd-segment")).toEqual(["AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:03:04.2 domain=0x0000 address=0xfffd0000 flags=0x0020]"]);
  });
  it("a device the kernel knows: printed against it, without device=", () => {
    const known = { ...unknown, devid: 0x0300, domainId: 0xe, device: { bdf: "0000:03:00.0", driver: "nvme" } };
    expect(amdLogLines(known, AMD_IO_PAGE_FAULT, "amd-segment")).toEqual(["nvme 0000:03:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x000e address=0xfffd0000 flags=0x0020]"]);
  });
});

describe("other lines", () => {
  it("SMMUv3 raw event dwords", () => {
    expect(smmuLogLines({ arch: "smmu", unit: "smmu0", id: SMMU_F_TRANSLATION.code, sid: 0x322, iova: 0x1000, access: "write" })).toEqual([
      "arm-smmu-v3 arm-smmu-v3.0.auto: event 0x10 received:",
      "arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000032200000010",
      "arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000000000000000",
      "arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000000000001000",
      "arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000000000000000",
    ]);
    // a read sets EVTQ_1_RnW (bit 35 of the second word)
    expect(smmuLogLines({ arch: "smmu", unit: "smmu0", id: SMMU_F_TRANSLATION.code, sid: 0x322, iova: 0x1000, access: "read" })[2]).toBe("arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000000800000000");
  });
  it("sriov_enable's bus range, one bus or several", () => {
    expect(vfBusRangeLine("0000:05:00.0", undefined, 128, 6, 5, 5)).toBe("pci 0000:05:00.0: can't enable 128 VFs (bus 06 out of range of [bus 05])");
    expect(vfBusRangeLine("0000:05:00.0", "ixgbe", 9, 7, 5, 6)).toBe("ixgbe 0000:05:00.0: can't enable 9 VFs (bus 07 out of range of [bus 05-06])");
  });
});
