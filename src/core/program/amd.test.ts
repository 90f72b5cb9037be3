import { describe, expect, it } from "vitest";
import { AmdDeviceTable, DTE_MODE_NONE } from "./amd.js";
import { IommuDomain } from "./domain.js";
import { AMD_FLAG_PE, AMD_FLAG_PR, AMD_FLAG_RW, AMD_ILLEGAL_DEV_TABLE_ENTRY, AMD_IO_PAGE_FAULT, Translation } from "./faults.js";
import { PERM_RW, PTE_READ } from "./page-table.js";

describe("AMD-Vi device table lookup (hw-models §3.1, §3.3)", () => {
  const out = new Translation();

  it("a DeviceID nobody programmed is blocked: IO_PAGE_FAULT with domain 0, RW only for writes", () => {
    const t = new AmdDeviceTable(0, ["ivhd0"]);
    expect(t.isProgrammed(0x0304)).toBe(false);
    expect(t.translate(0x0304, 0x1000, "read", out)).toMatchObject({ ok: false, fault: AMD_IO_PAGE_FAULT, domainId: 0, flags: 0, unit: "ivhd0" });
    expect(t.translate(0x0304, 0x1000, "write", out).flags).toBe(AMD_FLAG_RW);
  });

  it("with SNP the TV=1 / Mode 0 default is an ILLEGAL_DEV_TABLE_ENTRY", () => {
    const t = new AmdDeviceTable(0, ["ivhd0"], { snp: true });
    expect(t.translate(0x0600, 0, "read", out).fault).toBe(AMD_ILLEGAL_DEV_TABLE_ENTRY);
  });

  it("Mode 0 with IR/IW is pass-through", () => {
    const t = new AmdDeviceTable(0, ["ivhd0"]);
    t.setDte(0x0100, { mode: DTE_MODE_NONE, ir: true, iw: true, domainId: 3, domain: new IommuDomain("pt", { kind: "identity" }) });
    expect(t.translate(0x0100, 0xabc000, "write", out)).toMatchObject({ ok: true, passThrough: true, address: 0xabc000, domainId: 3 });
  });

  it("Mode 4 walks the domain's table; a missing page has PR clear, a permission fault PR and PE set", () => {
    const d = new IommuDomain("vm1");
    d.map(0x20_0000, 0x9000_0000, 0x1000, PTE_READ);
    const t = new AmdDeviceTable(0, ["ivhd0"]);
    t.setDte(0x0300, { mode: 4, ir: true, iw: true, domainId: 1, domain: d });
    expect(t.translate(0x0300, 0x20_0010, "read", out)).toMatchObject({ ok: true, address: 0x9000_0010, domainId: 1 });
    expect(t.translate(0x0300, 0x30_0000, "read", out)).toMatchObject({ fault: AMD_IO_PAGE_FAULT, flags: 0 });
    expect(t.translate(0x0300, 0x20_0000, "write", out)).toMatchObject({ fault: AMD_IO_PAGE_FAULT, flags: AMD_FLAG_RW | AMD_FLAG_PR | AMD_FLAG_PE });
    expect(t.translate(0x0300, 2 ** 48, "read", out).fault).toBe(AMD_IO_PAGE_FAULT);
  });

  it("DTE IR/IW gate translated accesses too", () => {
    const d = new IommuDomain("vm1");
    d.map(0, 0, 0x1000, PERM_RW);
    const t = new AmdDeviceTable(0, ["ivhd0"]);
    t.setDte(0x0300, { mode: 4, ir: true, iw: false, domainId: 1, domain: d });
    expect(t.translate(0x0300, 0, "read", out).ok).toBe(true);
    expect(t.translate(0x0300, 0, "write", out).flags).toBe(AMD_FLAG_RW | AMD_FLAG_PR | AMD_FLAG_PE);
  });

  it("clone copies a DTE; reset brings back the blocked default; rlookup names the IOMMU", () => {
    const d = new IommuDomain("vm1");
    d.map(0, 0x5000, 0x1000, PERM_RW);
    const t = new AmdDeviceTable(0, ["ivhd0", "ivhd1"]);
    t.setDte(0x0301, { mode: 4, ir: true, iw: true, domainId: 7, domain: d });
    t.cloneDte(0x0301, 0x0200);
    t.setRlookup(0x0200, 1);
    expect(t.translate(0x0200, 0x10, "read", out)).toMatchObject({ ok: true, address: 0x5010, domainId: 7, unit: "ivhd1" });
    t.resetDte(0x0200);
    expect(t.isProgrammed(0x0200)).toBe(false);
    expect(t.translate(0x0200, 0x10, "read", out)).toMatchObject({ fault: AMD_IO_PAGE_FAULT, domainId: 0 });
  });
});
