/**
 * Every scenario shipped in examples/scenarios runs, and every `expect:` in
 * it holds. The key outcomes of hw-models §6.3 are asserted here as well,
 * so a scenario edited to expect something else cannot slip through.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Outcome } from "./outcome.js";
import { loadScenario } from "./simulation.js";
import type { ScenarioRun } from "./simulation.js";

const DIR = path.resolve("examples/scenarios");
const FILES = readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort();

function run(file: string): ScenarioRun {
  const loaded = loadScenario(readFileSync(path.join(DIR, file), "utf8"));
  if (!loaded.ok) throw new Error(`${file}: ${loaded.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`).join("; ")}`);
  return loaded.simulation.run();
}

/** the outcome of transaction `i` */
const outcome = (r: ScenarioRun, i: number): Outcome => r.results[i]!.outcome;
const logOf = (o: Outcome): readonly string[] => (o.kind === "delivered" ? [] : o.log);

describe("examples/scenarios", () => {
  it("ships the §6.3 set, Switchtec files named for it", () => {
    expect(FILES).toEqual(expect.arrayContaining(["switchtec-ntb-no-quirk.yaml", "switchtec-ntb-quirk.yaml", "switchtec-ntb-table-size-0.yaml", "switchtec-ntb-amd.yaml", "pcie-to-pci-bridge.yaml", "sriov-vf-bus-overflow.yaml", "acs-p2p-redirect.yaml", "plx-ntb.yaml"]));
  });

  it.each(FILES)("%s: every expectation holds", (file) => {
    const r = run(file);
    const failed = r.results.flatMap((x) => x.failures.map((f) => `#${x.index + 1} ${x.name ?? ""}: ${f.field}: expected ${f.expected}, got ${f.actual}`));
    expect(failed).toEqual([]);
    expect(r.missingWarnings).toEqual([]);
    expect(r.passed).toBe(true);
    // self-checking: every transaction says what it expects
    expect(r.results.every((x) => x.checked.includes("outcome"))).toBe(true);
  });
});

describe("§6.3 outcomes", () => {
  it("1. without the quirk the proxy 03:04.2 faults with reason 2 on a present root entry", () => {
    const r = run("switchtec-ntb-no-quirk.yaml");
    const o = outcome(r, 0);
    expect(o).toMatchObject({ kind: "faulted", host: "A", rid: 0x0322, fault: { arch: "vtd", code: 0x02 } });
    expect(o.kind === "faulted" && o.record).toMatchObject({ arch: "vtd", sid: 0x0322, fr: 2, type: "write", fsts: 0x2 });
    const iommu = r.results[0]!.steps.find((s) => s.code === "iommu");
    expect(iommu).toMatchObject({ root: true, context: false });
    expect(logOf(outcome(r, 1))[0]).toBe("DMAR: DRHD: handling fault status reg 102");
    // iommu=pt: the NT endpoint itself is passed through, the proxy is not
    expect(outcome(r, 2)).toMatchObject({ kind: "delivered", address: 0x12345000 });
  });

  it("1. on a current kernel with the quirk off: the 0x02 NO_PASID line", () => {
    const o = outcome(run("switchtec-ntb-quirk-disabled.yaml"), 0);
    expect(logOf(o)).toEqual([
      "DMAR: DRHD: handling fault status reg 2",
      "DMAR: [DMA Write NO_PASID] Request device [03:04.2] fault addr 0x100000000 [fault reason 0x02] Present bit in context entry is clear",
    ]);
  });

  it("2. with the quirk the same write is translated into A's buffer", () => {
    const r = run("switchtec-ntb-quirk.yaml");
    expect(outcome(r, 0)).toEqual({ kind: "delivered", host: "A", to: "memory", address: 0x7f001000, rid: 0x0322, translated: true, domain: "ntb" });
    expect(r.hosts.find((h) => h.name === "A")!.bootLog).toContain("pci 0000:03:00.1: Aliasing Partition 1 Proxy ID 04.2");
    const codes = r.results[0]!.steps.map((s) => s.code);
    expect(codes).toEqual(["issue", "route-down", "ntb-requester", "ntb-window", "ntb-egress", "acs-sv", "forward-up", "iommu"]);
    expect(outcome(r, 4)).toMatchObject({ kind: "dropped", reason: "ntb-requester-not-registered" });
  });

  it("2a. table size 0: the kernel's warning and the fault", () => {
    const r = run("switchtec-ntb-table-size-0.yaml");
    expect(r.hosts[0]!.bootLog).toContain("pci 0000:03:00.1: Partition 1 table_sz 0");
    expect(outcome(r, 0)).toMatchObject({ kind: "faulted", rid: 0x0322, fault: { code: 2 } });
  });

  it("2b. AMD: IO_PAGE_FAULT with domain 0 and the RW flag; with the quirk, delivered", () => {
    const o = outcome(run("switchtec-ntb-amd.yaml"), 0);
    expect(logOf(o)).toEqual(["AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:03:04.2 domain=0x0000 address=0x100000000 flags=0x0020]"]);
    expect(outcome(run("switchtec-ntb-amd-quirk.yaml"), 0)).toMatchObject({ kind: "delivered", address: 0x7f000000 });
  });

  it("issue 110: the reporter's line, PASID form, second fault record", () => {
    const o = outcome(run("switchtec-ntb-issue-110.yaml"), 1);
    expect(logOf(o)).toEqual([
      "DMAR: DRHD: handling fault status reg 102",
      "DMAR: [DMA Read] Request device [ed:01.1] PASID ffffffff fault addr fffd0000 [fault reason 02] Present bit in context entry is clear",
    ]);
  });

  it("3. behind a PCIe-to-PCI bridge the IOMMU sees 02:00.0", () => {
    const r = run("pcie-to-pci-bridge.yaml");
    expect(r.results[0]!.steps.find((s) => s.code === "ownership")).toMatchObject({ rule: "pcie-to-pci", from: 0x0228, rid: 0x0200 });
    expect(outcome(r, 0)).toMatchObject({ kind: "delivered", rid: 0x0200 });
    expect(outcome(r, 1)).toMatchObject({ kind: "faulted", rid: 0x0200, fault: { code: 0x41 } });
    expect(outcome(r, 2)).toMatchObject({ kind: "delivered", rid: 0x0200 });
  });

  it("4. VFs past the bus range: refused, dropped by SV, translated with room, root-entry fault without SV", () => {
    const r = run("sriov-vf-bus-overflow.yaml");
    expect(logOf(outcome(r, 0))).toEqual(["i40e 0000:05:00.0: can't enable 128 VFs (bus 06 out of range of [bus 05])"]);
    expect(outcome(r, 2)).toMatchObject({ kind: "dropped", reason: "acs-violation", at: "0000:04:00.0", rid: 0x067e });
    expect(outcome(r, 3)).toMatchObject({ kind: "delivered", rid: 0x067e });
    expect(r.results[4]!.steps[0]).toMatchObject({ code: "issue", rid: 0x0580, ari: true });
    expect(outcome(r, 5)).toMatchObject({ kind: "faulted", fault: { code: 0x01 } });
  });

  it("5. ACS: direct without RR, fault reason 5 with it, translated with P2PDMA, violation for a forged RID", () => {
    const r = run("acs-p2p-redirect.yaml");
    expect(outcome(r, 0)).toMatchObject({ kind: "delivered", to: "0000:05:00.0", translated: false });
    expect(r.results[0]!.steps.some((s) => s.code === "iommu")).toBe(false);
    expect(outcome(r, 2)).toMatchObject({ kind: "faulted", fault: { code: 0x05 } });
    expect(outcome(r, 3)).toMatchObject({ kind: "faulted", fault: { name: "IO_PAGE_FAULT" } });
    expect(outcome(r, 3).kind === "faulted" && (outcome(r, 3) as { record: { flags: number } }).record.flags & 0x20).toBe(0x20);
    expect(outcome(r, 4)).toMatchObject({ kind: "delivered", to: "0000:05:00.0", translated: true });
    expect(outcome(r, 6)).toMatchObject({ kind: "dropped", reason: "acs-violation", at: "0000:02:08.0" });
  });

  it("6. PLX: any proxy passes, and the isolation loss is flagged", () => {
    const r = run("plx-ntb.yaml");
    expect(outcome(r, 0)).toMatchObject({ kind: "delivered", rid: 0x03ff });
    expect(outcome(r, 1)).toMatchObject({ kind: "delivered", domain: "ntb" });
    expect(r.warnings.filter((w) => w.message.startsWith("isolation loss")).length).toBeGreaterThanOrEqual(2);
  });
});
