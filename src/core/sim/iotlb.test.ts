/**
 * The IOTLB gives the machine's answers: the same address for every
 * request of a trace, faults never cached, a read-only page never written
 * through a cached read, and stale entries until an invalidation.
 */
import { describe, expect, it } from "vitest";
import { snapshotFromDesign } from "../design/from-design.js";
import { predict } from "../iommu/predict.js";
import { Translation } from "../program/faults.js";
import { machineFromPrediction } from "../program/machine.js";
import type { IommuMachine } from "../program/machine.js";
import { PTE_READ } from "../program/page-table.js";
import { Iotlb } from "./iotlb.js";
import { generateTrace, replayTrace } from "./trace.js";

function machine(arch: "vtd" | "amd"): IommuMachine {
  const d = snapshotFromDesign(
    ["devices:", '  - { bdf: "00:00.0", type: host-bridge }', '  - { bdf: "00:01.0", type: root-port, bus: 1, acs: true }', '  - { bdf: "01:00.0", type: endpoint }', '  - { bdf: "00:02.0", type: root-port, bus: 2, acs: true }', '  - { bdf: "02:00.0", type: endpoint }'].join("\n"),
  );
  if (!d.ok) throw new Error(d.problems[0]!.message);
  const m = machineFromPrediction(predict(d.snapshot), { assumedArch: arch });
  const a = m.createDomain("a");
  const b = m.createDomain("b");
  expect(a.map(0x100000, 0x4000_0000, 0x40000, 3)).toBeUndefined();
  expect(a.map(0x140000, 0x5000_0000, 0x1000, PTE_READ)).toBeUndefined();
  expect(b.map(0x100000, 0x6000_0000, 0x200000, 3)).toBeUndefined(); // one 2 MiB superpage
  m.attach("0000:01:00.0", a);
  m.attach("0000:02:00.0", b);
  return m;
}

describe("Iotlb", () => {
  it.each(["vtd", "amd"] as const)("%s: every answer equals the machine's, over a trace with faults", (arch) => {
    const m = machine(arch);
    // stream 1 runs past the end of its mapping into the read-only page and beyond
    const trace = generateTrace({
      tlps: 20_000,
      streams: [
        { rid: 0x0100, iova: 0x100000, size: 0x48000 },
        { rid: 0x0200, iova: 0x100000, size: 0x200000 },
        { rid: 0x0300, iova: 0x100000, size: 0x1000 },
      ],
      seed: 3,
      randomShare: 0.2,
    });
    const tlb = new Iotlb(m, { entries: 64 });
    const out = new Translation();
    let faults = 0;
    for (let i = 0; i < trace.length; i++) {
      const access = trace.write[i] ? "write" : "read";
      const want = m.translate(trace.rid[i]!, trace.iova[i]!, access, out);
      const got = tlb.translate(trace.rid[i]!, trace.iova[i]!, access);
      expect(got).toBe(want.ok ? want.address : -1);
      if (!want.ok) faults++;
    }
    expect(faults).toBeGreaterThan(1000);
    expect(tlb.faults).toBe(faults);
    expect(tlb.hits).toBeGreaterThan(tlb.misses);
    expect(replayTrace(trace, tlb).faults).toBe(faults);
  });

  it("a read-only page is not written through a cached read", () => {
    const tlb = new Iotlb(machine("vtd"));
    expect(tlb.translate(0x0100, 0x140010, "read")).toBe(0x5000_0010);
    expect(tlb.translate(0x0100, 0x140010, "write")).toBe(-1);
    expect(tlb.last.fault?.name).toBe("pte-write-not-set");
    expect(tlb.translate(0x0100, 0x140020, "read")).toBe(0x5000_0020);
    expect(tlb.stats).toEqual({ hits: 1, misses: 2, faults: 1 });
  });

  it("a read fills write permission from the PTE, so the write that follows hits", () => {
    const tlb = new Iotlb(machine("vtd"));
    tlb.translate(0x0100, 0x100000, "read");
    expect(tlb.translate(0x0100, 0x100008, "write")).toBe(0x4000_0008);
    expect(tlb.stats).toEqual({ hits: 1, misses: 1, faults: 0 });
  });

  it("keeps a stale translation until invalidated, as hardware does", () => {
    const m = machine("vtd");
    const tlb = new Iotlb(m);
    expect(tlb.translate(0x0200, 0x100000, "write")).toBe(0x6000_0000);
    m.domain("b")!.unmap(0x100000, 0x200000);
    expect(tlb.translate(0x0200, 0x100000, "write")).toBe(0x6000_0000);
    tlb.invalidateRid(0x0100);
    expect(tlb.translate(0x0200, 0x100000, "write")).toBe(0x6000_0000);
    tlb.invalidateRid(0x0200);
    expect(tlb.translate(0x0200, 0x100000, "write")).toBe(-1);
  });

  it("refuses a size that is not a power of two", () => {
    expect(() => new Iotlb(machine("vtd"), { entries: 100 })).toThrow(/power of two/);
  });
});
