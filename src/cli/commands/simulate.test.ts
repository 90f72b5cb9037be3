import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { SimulateJson } from "../../core/sim/to-json.js";
import { InputError } from "../errors.js";
import { BUNDLED_EXAMPLE } from "../load.js";
import { recorder } from "../testing.js";
import { simulate } from "./simulate.js";

const NO_QUIRK = path.resolve("examples/scenarios/switchtec-ntb-no-quirk.yaml");

async function json(scenario: string): Promise<{ code: number; data: SimulateJson }> {
  const io = recorder();
  const code = await simulate({ scenario, json: true }, io);
  return { code, data: JSON.parse(io.text()) as SimulateJson };
}

async function scratch(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "iommu-atlas-sim-"));
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

describe("simulate", () => {
  it("prints each transaction's hops, outcome and kernel lines; exit 0 when the expectations hold", async () => {
    const io = recorder();
    expect(await simulate({ scenario: NO_QUIRK }, io)).toBe(0);
    const text = io.text();
    expect(text).toContain("host A: kernel 4.15, VT-d legacy mode, faults logged as vtd-one-line");
    expect(text).toContain("NTB partition 1: requester-ID table slot 0 admits 00:00.0; its proxy devfn is 04.2");
    expect(text).toContain("leaves NT endpoint 0000:03:00.1 (partition 0) with proxy requester ID 03:04.2");
    expect(text).toContain("| DMAR: [DMA Write] Request device [03:04.2] fault addr 7f001000 [fault reason 02] Present bit in context entry is clear");
    expect(text).toMatch(/3 transactions: 1 delivered, 2 faulted, 0 dropped; all \d+ expectations held$/);
  });

  it("--json: the run as data, schema iommu-atlas/simulate@1", async () => {
    const { code, data } = await json(NO_QUIRK);
    expect(code).toBe(0);
    expect([data.schema, data.passed, data.hosts.map((h) => [h.name, h.kernel, h.iommu, h.logFormat])]).toEqual([
      "iommu-atlas/simulate@1",
      true,
      [
        ["A", "4.15", "vtd", "vtd-one-line"],
        ["B", "4.15", "vtd", "vtd-one-line"],
      ],
    ]);
    const t = data.transactions[0]!;
    expect(t.steps.map((s) => s.code)).toEqual(["issue", "route-down", "ntb-requester", "ntb-window", "ntb-egress", "acs-sv", "forward-up", "iommu"]);
    expect(t.steps[2]).toMatchObject({ partition: 1, rid: "00:00.0", slot: 0, proxy: "04.2", registered: ["00:00.0"] });
    expect(t.outcome).toMatchObject({
      kind: "faulted",
      host: "A",
      rid: "03:04.2",
      address: "0x7f001000",
      fault: { arch: "vtd", code: "0x2", name: "context-entry-not-present", reason: "Present bit in context entry is clear" },
      record: { arch: "vtd", fsts: "0x2", fri: 0, fi: "0x7f001000", sid: "03:04.2", fr: "0x2", type: "write" },
    });
    expect(data.hosts[0]!.entries.map((e) => e.rid)).toEqual(["03:00.1"]);
    expect(data.summary).toMatchObject({ delivered: 1, faulted: 2, dropped: 0, notIssued: 0, expectationsFailed: 0 });
  });

  it("exit 1 when an expectation does not hold, and says which", async () => {
    const text = (await readFile(NO_QUIRK, "utf8")).replace('      fault: "0x02"', '      fault: "0x05"');
    const io = recorder();
    expect(await simulate({ scenario: await scratch("wrong.yaml", text) }, io)).toBe(1);
    expect(io.text()).toContain("expect failed: fault: expected 0x05, got 0x2 context-entry-not-present");
    expect(io.text()).toMatch(/1 of \d+ expectations failed$/);
  });

  it("hosts read from a source: a capture relative to the scenario", async () => {
    const file = await scratch(
      "capture.yaml",
      [
        "hosts:",
        "  - name: q",
        `    source: ${BUNDLED_EXAMPLE}`,
        "    domains: [{ name: vm1, mappings: [{ iova: 0x1000, paddr: 0x5000, size: 4K }] }]",
        '    attach: [{ bdf: "02:01.0", domain: vm1 }]',
        "transactions:",
        '  - { from: "02:01.0", address: 0x1010, expect: { outcome: delivered, rid: "02:00.0", address: 0x5010 } }',
      ].join("\n"),
    );
    const { code, data } = await json(file);
    expect(code).toBe(0);
    expect(data.hosts[0]).toMatchObject({ kernel: "6.1", iommu: "vtd" });
  });

  it("bad input is exit 2 material: file:line: field: message", async () => {
    const text = (await readFile(NO_QUIRK, "utf8")).replace('proxy: "04.2" }', 'proxy: "04.2", color: red }');
    const file = await scratch("bad.yaml", text);
    const line = text.split("\n").findIndex((l) => l.includes("color: red")) + 1;
    await expect(simulate({ scenario: file }, recorder())).rejects.toThrow(new InputError(`${file}:${line}: ntb.partitions[1].requester_ids[0]: unknown field 'color'; see docs/scenario.md`));
    await expect(simulate({ scenario: "/nonexistent/s.yaml" }, recorder())).rejects.toThrow(/^\/nonexistent\/s.yaml: no such file; pass a scenario file/);
    const missing = await scratch("missing.yaml", "hosts:\n  - name: q\n    source: nowhere.tar.gz\ntransactions:\n  - { from: cpu, address: 0 }\n");
    await expect(simulate({ scenario: missing }, recorder())).rejects.toThrow(new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3: hosts\\[0\\]\\.source: .*nowhere.tar.gz: no such file or folder`));
  });
});
