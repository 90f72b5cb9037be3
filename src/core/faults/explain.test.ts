/**
 * Fault lines the simulator prints for the shipped scenarios, read back and
 * explained against the host that printed them: the requester ID, whether an
 * alias covers it and the cause must agree with what the simulation did.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { snapshotFromDesign } from "../design/from-design.js";
import { predict } from "../iommu/predict.js";
import { loadScenario } from "../sim/simulation.js";
import type { ScenarioRun } from "../sim/simulation.js";
import { explainFault } from "./explain.js";
import { formatFaultCause } from "./messages.js";
import { parseFaultLog } from "./parse.js";

const DIR = path.resolve("examples/scenarios");
const FILES = readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort();

/** what the simulated IOMMU lacked, by its fault name (independent of the reader's table) */
function expectedKind(name: string, amdDomain: number | undefined): string {
  if (name === "IO_PAGE_FAULT") return amdDomain === 0 ? "no-entry" : "no-mapping";
  if (/not-present|^C_BAD_STREAMID$|^C_BAD_STE$/.test(name)) return "no-entry";
  if (/^pte-|permission|beyond|^F_TRANSLATION$|^F_ADDR_SIZE$/.test(name)) return "no-mapping";
  return "other";
}

function run(file: string): ScenarioRun {
  const loaded = loadScenario(readFileSync(path.join(DIR, file), "utf8"));
  if (!loaded.ok) throw new Error(`${file}: ${loaded.problems.map((p) => p.message).join("; ")}`);
  return loaded.simulation.run();
}

describe("every fault the shipped scenarios print round-trips through the reader", () => {
  const faulted = FILES.flatMap((file) => run(file).results.map((r) => ({ file, r, run: run(file) })).filter((x) => x.r.outcome.kind === "faulted"));

  it("the scenarios fault on every architecture", () => {
    const archs = new Set(faulted.map((x) => (x.r.outcome.kind === "faulted" ? x.r.outcome.fault.arch : "")));
    expect([...archs].sort()).toEqual(expect.arrayContaining(["amd", "vtd"]));
  });

  it.each(faulted.map((x) => [`${x.file} #${x.r.index + 1}`, x] as const))("%s", (_name, x) => {
    const o = x.r.outcome;
    if (o.kind !== "faulted") throw new Error("not a fault");
    const { faults, unread } = parseFaultLog(o.log.join("\n"));
    expect(unread).toEqual([]);
    if (o.log.length === 0) {
      expect(faults).toEqual([]); // an abort STE records nothing
      return;
    }
    expect(faults).toHaveLength(1);
    const f = faults[0]!;
    expect(f.rid).toBe(o.rid & 0xffff);
    expect(f.arch).toBe(o.fault.arch);
    const host = x.run.hosts.find((h) => h.name === o.host)!;
    const e = explainFault(host.snapshot, host.prediction, f);
    // the simulated IOMMU found no entry or no mapping: the reader says the same
    const amdDomain = o.record?.arch === "amd" ? o.record.domainId : undefined;
    expect(e.kind).toBe(expectedKind(o.fault.name, amdDomain));
    // who can emit it is the prediction's own alias walk
    const emitters = [...host.prediction.topology.functions.values()].filter((fn) => fn.segment === (f.segment ?? 0));
    expect(e.emitters.every((m) => emitters.some((fn) => fn.bdf === m.bdf))).toBe(true);
    expect(formatFaultCause(e.cause).length).toBeGreaterThan(20);
  });
});

describe("causes", () => {
  it("quirk disabled: the proxy ID of partition 1 is not an alias, and says why", () => {
    const r = run("switchtec-ntb-quirk-disabled.yaml");
    const o = r.results[0]!.outcome;
    if (o.kind !== "faulted") throw new Error("expected a fault");
    const f = parseFaultLog(o.log.join("\n")).faults[0]!;
    const host = r.hosts.find((h) => h.name === "A")!;
    const e = explainFault(host.snapshot, host.prediction, f);
    expect(e).toMatchObject({ rid: "0000:03:04.2", owner: null, aliasCovered: false, kind: "no-entry" });
    expect(e.emitters).toEqual([]);
    expect(e.cause).toMatchObject({ code: "switchtec-proxy-not-alias", proxy: "04.2", partition: 1, nt: "0000:03:00.1" });
    expect(formatFaultCause(e.cause)).toContain("proxy ID 04.2 of NTB partition 1");
    expect(formatFaultCause(e.cause)).toContain("a kernel without the Switchtec quirk");
  });

  const design = snapshotFromDesign(readFileSync(path.resolve("examples/designs/switchtec-ntb.yaml"), "utf8"));
  if (!design.ok) throw new Error("design");
  const snap = design.snapshot;
  const line = (rid: string, reason = "0x02] Present bit in context entry is clear"): string =>
    `DMAR: [DMA Write NO_PASID] Request device [${rid}] fault addr 0x100000000 [fault reason ${reason}`;
  const explain = (text: string, kernel?: string) => {
    const p = predict(snap, kernel ? { kernel: { major: Number(kernel.split(".")[0]), minor: Number(kernel.split(".")[1]) } } : {});
    return explainFault(snap, p, parseFaultLog(text).faults[0]!);
  };

  it("a proxy ID the modelled kernel aliases: covered, so the running kernel lacked the quirk or the NT function had no domain", () => {
    const e = explain(line("03:10.1"));
    expect(e.aliasCovered).toBe(true);
    expect(e.emitters.map((m) => [m.bdf, m.alias.cause])).toEqual([["0000:03:00.1", "quirk"]]);
    expect(e.cause).toMatchObject({ code: "switchtec-proxy-alias", proxy: "10.1", partition: 0 });
  });

  it("the same ID on a kernel before the quirk: not an alias", () => {
    const e = explain(line("03:10.1"), "4.14");
    expect(e.aliasCovered).toBe(false);
    expect(e.cause).toMatchObject({ code: "switchtec-proxy-not-alias", proxy: "10.1", partition: 0, since: "≈4.16" });
    // a NO_PASID line comes from 5.13 or later: modelling 4.14 is said to be inconsistent
    expect(e.notes).toContainEqual({ code: "era-mismatch", format: "vtd-no-pasid", since: "5.13", until: undefined, kernel: "4.14" });
    expect(explain(line("03:10.1")).notes.some((n) => n.code === "era-mismatch")).toBe(false);
  });

  it("own ID without an entry, own ID without a mapping, an unknown ID, a bus the source lacks", () => {
    expect(explain(line("05:00.0")).cause).toMatchObject({ code: "not-attached", bdf: "0000:05:00.0" });
    expect(explain(line("05:00.0", "0x06] PTE Read access is not set")).cause).toMatchObject({ code: "not-mapped", bdfs: ["0000:05:00.0"] });
    expect(explain(line("05:00.3")).cause).toMatchObject({ code: "no-emitter" });
    expect(explain(line("42:00.0")).cause).toMatchObject({ code: "bus-absent" });
    expect(explain("DMAR: [INTR-REMAP] Request device [f0:1f.0] fault index 0x0 [fault reason 0x22] Present field in the IRTE entry is clear").cause).toMatchObject({ code: "interrupt-not-pci", rid: "0000:f0:1f.0" });
    expect(explain("DMAR: [INTR-REMAP] Request device [05:00.0] fault index 0x3 [fault reason 0x26] Blocked an interrupt request due to source-id verification failure").cause).toMatchObject({ code: "interrupt-blocked", bdfs: ["0000:05:00.0"] });
    expect(explain("AMD-Vi: Event logged [IO_PAGE_FAULT device=05:00.0 domain=0x0000 address=0x1000 flags=0x0000]").cause).toMatchObject({ code: "not-attached", amdDefault: true });
  });
});
