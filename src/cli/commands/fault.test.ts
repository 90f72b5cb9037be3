import { describe, expect, it } from "vitest";
import { main } from "../main.js";
import { recorder } from "../testing.js";
import { fault } from "./fault.js";

const DESIGN = "examples/designs/switchtec-ntb.yaml";

describe("fault", () => {
  it("a proxy ID the modelled kernel lacks: not an alias, with the cause in words", async () => {
    const io = recorder();
    const line = "DMAR: [DMA Write NO_PASID] Request device [03:10.1] fault addr 0x100000000 [fault reason 0x02] Present bit in context entry is clear";
    expect(await main(["fault", line, DESIGN, "--kernel", "4.14"], io)).toBe(0);
    expect(io.text()).toContain("emitted by: no function");
    expect(io.text()).toContain("DMA alias: no");
    expect(io.text()).toContain("likely cause: proxy ID 10.1 of NTB partition 0 (Switchtec NT function 0000:03:00.1) is not a DMA alias");
  });

  it("reads a dmesg excerpt from stdin, in the documented JSON shape", async () => {
    const io = recorder();
    const excerpt = [
      "[   10.1] nvme nvme0: pci function 0000:05:00.0",
      "[   10.9] AMD-Vi: Event logged [IO_PAGE_FAULT device=05:00.0 domain=0x0003 address=0x1000 flags=0x0020]",
      "[   11.0] DMAR: [DMA Read] Request device [03:00.1] PASID ffffffff fault addr 7f000 [fault reason 06] PTE Read access is not set",
    ].join("\n");
    expect(await fault({ lines: "-", source: DESIGN, json: true, stdin: async () => excerpt }, io)).toBe(0);
    const data = JSON.parse(io.text());
    expect(data.schema).toBe("iommu-atlas/fault@1");
    expect(data.faults.map((f: { line: number; format: string; rid: string; kind: string; aliasCovered: boolean; cause: { code: string } }) => [f.line, f.format, f.rid, f.kind, f.aliasCovered, f.cause.code])).toEqual([
      [2, "amd-no-segment", "0000:05:00.0", "no-mapping", false, "not-mapped"],
      [3, "vtd-pasid", "0000:03:00.1", "no-mapping", false, "not-mapped"],
    ]);
    expect(data.faults[0]).toMatchObject({ domain: "0x3", flags: "0x20", access: "write", address: "0x1000", segmentPrinted: false });
  });

  it("input without a fault line: one line on stderr, exit 2", async () => {
    const io = recorder();
    expect(await main(["fault", "just some words", DESIGN], io)).toBe(2);
    expect(io.errors()).toMatch(/^iommu-atlas: the fault argument: no IOMMU fault line/);
    expect(io.errors().split("\n")).toHaveLength(1);
  });
});
