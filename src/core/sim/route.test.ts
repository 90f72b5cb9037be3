/**
 * Routing rules one at a time (hw-models.md §5): phantom functions,
 * conventional bridges, peers on one bus, the root complex's peer-to-peer,
 * SMMUv3 and IOMMU-less hosts, and expectations that do not hold.
 */
import { describe, expect, it } from "vitest";
import type { Outcome, Step } from "./outcome.js";
import { loadScenario } from "./simulation.js";
import type { ScenarioRun } from "./simulation.js";

function run(text: string): ScenarioRun {
  const r = loadScenario(text);
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`).join("; "));
  return r.simulation.run();
}

/** one host with `devices` and `extra` host keys, and `tx` as the transactions list */
const scenario = (devices: string, extra: string, tx: string): string =>
  `hosts:\n  - name: h\n    kernel: "6.8"\n${extra}    devices:\n${devices}transactions:\n${tx}`;

const ROOT = `      - { bdf: "00:00.0", type: host-bridge }\n      - { bdf: "00:01.0", type: root-port, bus: [5, 5], acs: true }\n`;
const outcomes = (r: ScenarioRun): Outcome[] => r.results.map((x) => x.outcome);
const steps = (r: ScenarioRun, i: number): Step[] => [...r.results[i]!.steps];

describe("requester IDs at the source", () => {
  it("phantom functions take the free top bits of the function number; Linux programs no alias for them", () => {
    const devices = ROOT + `      - { bdf: "05:00.1", type: endpoint, phantom: 2, multifunction: true }\n      - { bdf: "05:00.0", type: endpoint, multifunction: true }\n`;
    const r = run(
      scenario(
        devices,
        `    domains: [{ name: d, mappings: [{ iova: 0x1000, paddr: 0x2000, size: 4K }] }]\n    attach: [{ bdf: "05:00.1", domain: d }]\n`,
        `  - { from: "05:00.1", address: 0x1000 }\n  - { from: "05:00.1", phantom: 1, address: 0x1000 }\n  - { from: "05:00.1", phantom: 3, address: 0x1000 }\n`,
      ),
    );
    const [own, p1, p3] = outcomes(r);
    expect(own).toMatchObject({ kind: "delivered", rid: 0x0501 });
    // two phantom bits: function 1 uses 3 (0b011), then 0b101 and 0b111
    expect(steps(r, 1).find((s) => s.code === "phantom")).toMatchObject({ rid: 0x0503, phantomBits: 2 });
    expect(p1).toMatchObject({ kind: "faulted", rid: 0x0503, fault: { code: 2 } });
    expect(p3).toMatchObject({ kind: "faulted", rid: 0x0507 });
  });
});

describe("bridges", () => {
  it("a conventional PCI bridge issues its devices' DMA with its own requester ID", () => {
    const devices = `      - { bdf: "00:00.0", type: host-bridge }\n      - { bdf: "00:1e.0", type: pci-bridge, id: "8086:244e", bus: 5 }\n      - { bdf: "05:02.0", type: conventional }\n`;
    const r = run(scenario(devices, `    domains: [{ name: d, mappings: [{ iova: 0x1000, paddr: 0x2000, size: 4K }] }]\n    attach: [{ bdf: "05:02.0", domain: d }]\n`, `  - { from: "05:02.0", address: 0x1000 }\n`));
    expect(steps(r, 0).find((s) => s.code === "ownership")).toMatchObject({ rule: "pci-bridge", from: 0x0510, rid: 0x00f0 });
    expect(outcomes(r)[0]).toMatchObject({ kind: "delivered", rid: 0x00f0, address: 0x2000 });
  });

  it("a PCIe-to-PCI bridge hiding its PCIe capability (the ASMedia quirk) owns it as (secondary, 00.0)", () => {
    const devices = ROOT.replace("bus: [5, 5]", "bus: [5, 6]") + `      - { bdf: "05:00.0", type: pci-bridge, id: "1b21:1080", bus: 6 }\n      - { bdf: "06:03.0", type: conventional }\n`;
    const r = run(scenario(devices, "", `  - { from: "06:03.0", address: 0x1000 }\n`));
    expect(steps(r, 0).find((s) => s.code === "ownership")).toMatchObject({ rule: "pcie-bridge-alias", rid: 0x0600 });
  });
});

describe("peers", () => {
  const mfd = `      - { bdf: "00:00.0", type: host-bridge }\n      - { bdf: "00:01.0", type: root-port, bus: 5, acs: true }\n      - { bdf: "05:00.0", type: endpoint, multifunction: true ACS }\n      - { bdf: "05:00.1", type: endpoint, multifunction: true ACS }\n`;
  const bars = `    bars: [{ bdf: "05:00.1", base: 0xe0000000, size: 1M }]\n`;
  const tx = `  - { from: "05:00.0", address: 0xe0000000 }\n`;

  it("functions of one device without ACS reach each other directly", () => {
    const r = run(scenario(mfd.replaceAll(" ACS", ""), bars, tx));
    expect(steps(r, 0).find((s) => s.code === "p2p")).toMatchObject({ bdf: "0000:05:00.0", decision: "direct" });
    expect(outcomes(r)[0]).toMatchObject({ kind: "delivered", to: "0000:05:00.1", translated: false });
  });

  it("with ACS on the functions the request goes up to the IOMMU", () => {
    const r = run(scenario(mfd.replaceAll(" ACS", ", acs: true"), bars, tx));
    expect(steps(r, 0).find((s) => s.code === "p2p")).toMatchObject({ decision: "redirect" });
    expect(outcomes(r)[0]).toMatchObject({ kind: "faulted", rid: 0x0500 });
  });

  it("a root complex that does not forward peer-to-peer drops a translated request aimed at a BAR", () => {
    const host = `    root_complex_p2p: false\n${bars}    domains: [{ name: d, mappings: [{ iova: 0xe0000000, paddr: 0xe0000000, size: 1M }] }]\n    attach: [{ bdf: "05:00.0", domain: d }]\n`;
    const r = run(scenario(mfd.replaceAll(" ACS", ", acs: true"), host, tx));
    expect(outcomes(r)[0]).toMatchObject({ kind: "dropped", reason: "rc-no-p2p" });
  });

  it("the CPU reaches a BAR without the IOMMU", () => {
    const r = run(scenario(mfd.replaceAll(" ACS", ""), bars, `  - { from: cpu, address: 0xe0000040, access: read }\n`));
    expect(outcomes(r)[0]).toMatchObject({ kind: "delivered", to: "0000:05:00.1", translated: false, rid: 0 });
  });
});

describe("IOMMU kinds", () => {
  const dev = ROOT + `      - { bdf: "05:00.0", type: endpoint }\n`;
  const dom = `    domains: [{ name: d, mappings: [{ iova: 0x1000, paddr: 0x9000, size: 4K }] }]\n    attach: [{ bdf: "05:00.0", domain: d }]\n`;
  const tx = `  - { from: "05:00.0", address: 0x1010 }\n  - { from: "05:00.0", address: 0x3000, access: read }\n`;

  it("SMMUv3: translated, then F_TRANSLATION with the raw event", () => {
    const r = run(scenario(dev, `    iommu: { arch: smmu }\n${dom}`, tx));
    expect(outcomes(r)[0]).toMatchObject({ kind: "delivered", address: 0x9010 });
    const f = outcomes(r)[1]!;
    expect(f).toMatchObject({ kind: "faulted", fault: { arch: "smmu", name: "F_TRANSLATION" } });
    expect(f.kind === "faulted" && f.log[0]).toBe("arm-smmu-v3 arm-smmu-v3.0.auto: event 0x10 received:");
  });

  it("no IOMMU: every address is used as it is", () => {
    const r = run(scenario(dev, `    iommu: { arch: none }\n`, tx));
    expect(outcomes(r)[1]).toMatchObject({ kind: "delivered", address: 0x3000, translated: false });
    expect(steps(r, 1).some((s) => s.code === "no-iommu")).toBe(true);
  });

  it("an expectation that does not hold fails the run, field by field", () => {
    const r = run(scenario(dev, dom, `  - from: "05:00.0"\n    address: 0x3000\n    expect: { outcome: delivered, rid: "05:00.1", fault: "0x05", log: nothing-like-this }\n`));
    expect(r.passed).toBe(false);
    expect(r.results[0]!.failures.map((f) => f.field)).toEqual(["outcome", "rid", "log"]);
  });

  it("acs_ctrl can give a port without the capability Source Validation", () => {
    const devices = `      - { bdf: "00:00.0", type: host-bridge }\n      - { bdf: "00:01.0", type: root-port, bus: 5 }\n      - { bdf: "05:00.0", type: endpoint }\n`;
    const tx = `  - { from: "05:00.0", rid: "07:00.0", address: 0x1000 }\n`;
    expect(outcomes(run(scenario(devices, "", tx)))[0]).toMatchObject({ kind: "faulted", rid: 0x0700 });
    expect(outcomes(run(scenario(devices, `    acs_ctrl: { "00:01.0": "SV" }\n`, tx)))[0]).toMatchObject({ kind: "dropped", reason: "acs-violation" });
  });
});
