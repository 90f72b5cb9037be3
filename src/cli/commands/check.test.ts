import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionInputsOf } from "../../core/plan/inputs.js";
import type { CheckJson, PlanErrorsJson } from "../../core/plan/to-json.js";
import { buildTopology } from "../../core/topology/build.js";
import { InputError } from "../errors.js";
import { BUNDLED_EXAMPLE, loadSource } from "../load.js";
import type { Output } from "../output.js";
import { check } from "./check.js";

const SHARED = path.resolve("..", "shared", "oracle-cases");
const archives = existsSync(SHARED) ? readdirSync(SHARED).filter((n) => n.endsWith(".sysfs.tar.gz")) : [];

function capture(): Output & { text: () => string; errors: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (s) => out.push(s), err: (s) => err.push(s), color: false, text: () => out.join("\n"), errors: () => err.join("\n") };
}

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "iommu-atlas-check-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function planFile(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

async function run(plan: string, source: string, extra: { json?: boolean; kernel?: string } = {}) {
  const io = capture();
  const code = await check({ plan, source, ...extra }, io);
  return { code, out: io.text(), err: io.errors() };
}

describe("check on the bundled capture (PCIe-to-PCI bridge with two conventional devices)", () => {
  it("a plan splitting the bridge's group between guests is unsafe (exit 1), verdict first", async () => {
    const plan = await planFile("split.yaml", "guests:\n  - name: a\n    devices: [0000:02:01.0]\n  - name: b\n    devices: [0000:02:02.0]\n");
    const { code, out } = await run(plan, BUNDLED_EXAMPLE);
    expect(code).toBe(1);
    const lines = out.split("\n");
    expect(lines[0]).toBe("UNSAFE: 2 errors, 0 warnings");
    expect(out).toContain("error: group 4 is split between guest a (0000:02:01.0) and guest b (0000:02:02.0)");
    expect(out).toContain(
      "0000:02:01.0 (guest a): its DMA is seen as 02:00.0 (via pcie-to-pci 0000:01:00.0); bridge 0000:01:00.0 is already in group 4, so it joins that group",
    );
    expect(out).toContain("fix: give guest a the whole group: move 0000:02:02.0 from guest b");
    expect(out).toMatch(/error: requester ID 02:00\.0 can be emitted in 2 domains/);
    expect(out).toContain("no actions: the plan is unsafe");
  });

  it("the whole group to one guest is safe (exit 0) and prints the actions", async () => {
    const plan = await planFile("whole.yaml", "guests:\n  - name: a\n    devices: [8086:100e, 1af4:1005]\n  - name: b\n    devices: [class:0200]\nhost: [0000:00:1f.2]\n");
    // class:0200 matches both NICs; the BDF-free vendor:device entry for 02:01.0 is more specific
    const { code, out } = await run(plan, BUNDLED_EXAMPLE);
    expect(code).toBe(0);
    expect(out.split("\n")[0]).toBe("SAFE: 0 errors, 0 warnings");
    expect(out).toContain("driverctl set-override 0000:02:01.0 vfio-pci");
    expect(out).toContain("echo vfio-pci > /sys/bus/pci/devices/0000:03:00.0/driver_override");
    expect(out).toContain("echo 0000:03:00.0 > /sys/bus/pci/drivers_probe");
    expect(out).toContain("<address domain='0x0000' bus='0x02' slot='0x02' function='0x0'/>");
    expect(out).toContain("-device vfio-pci,host=0000:02:01.0 -device vfio-pci,host=0000:02:02.0");
    expect(out).toContain("-device vfio-pci,host=0000:03:00.0");
  });

  it("--json follows schema iommu-atlas/check@1", async () => {
    const plan = await planFile(
      "req.yaml",
      "guests:\n  - name: a\n    devices: [02:01.0, 02:02.0]\nalias_requests:\n  - guest: a\n    device: 02:01.0\n    requester_ids: [03:00.0]\n",
    );
    const { code, out } = await run(plan, BUNDLED_EXAMPLE, { json: true });
    expect(code).toBe(0);
    const data = JSON.parse(out) as CheckJson;
    expect(data.schema).toBe("iommu-atlas/check@1");
    expect(data.verdict).toBe("safe");
    expect(data.counts).toEqual({ errors: 0, warnings: 0, info: 0, refused: 1 });
    expect(data.aliasRequests[0]!.decision).toBe("refused");
    expect(data.aliasRequests[0]!.requesterIds[0]!.reasons.map((r) => r.code)).toEqual(["captures", "cross-bus"]);
    expect(data.aliasRequests[0]!.requesterIds[0]!.reasons[0]!.text).toBe("03:00.0 would capture DMA of 0000:03:00.0 (the host) as its own requester ID");
    expect(data.actions?.driverctl).toEqual(["driverctl set-override 0000:02:01.0 vfio-pci", "driverctl set-override 0000:02:02.0 vfio-pci"]);
  });

  it("bad YAML, a bad field and a selector matching nothing are bad input (exit 2) with file:line", async () => {
    const syntax = await planFile("syntax.yaml", "guests:\n  - name: a\n    devices: [0000:02:01.0\n  - x\n");
    let r = await run(syntax, BUNDLED_EXAMPLE);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^iommu-atlas: ${syntax.replace(/[.\\]/g, "\\$&")}:\\d+: `));

    const bad = await planFile("bad.yaml", "guests:\n  - name: a\n    devices:\n      - gpu\n");
    r = await run(bad, BUNDLED_EXAMPLE);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`iommu-atlas: ${bad}:4: guests[0].devices[0]: 'gpu' is not a BDF, vendor:device or class; write 0000:01:00.0, 10de:1b80 or class:0300`);

    const none = await planFile("none.yaml", "guests:\n  - name: a\n    devices:\n      - class:0300\n");
    r = await run(none, BUNDLED_EXAMPLE, { json: true });
    expect(r.code).toBe(2);
    const errors = JSON.parse(r.out) as PlanErrorsJson;
    expect(errors.verdict).toBe("bad-input");
    expect(errors.errors).toMatchObject([{ line: 4, path: "guests[0].devices[0]" }]);
    expect(errors.errors[0]!.message).toMatch(/^'class:0300' matches no function in .*pcie-pci-bridge-alias/);
  });

  it("a missing plan file is an input error (main turns it into exit 2)", async () => {
    await expect(run(path.join(dir, "absent.yaml"), BUNDLED_EXAMPLE)).rejects.toThrow(InputError);
  });

  it("rebuilding the capture from its own inputs gives the same topology (the SR-IOV path relies on it)", async () => {
    const { snapshot } = await loadSource(BUNDLED_EXAMPLE);
    expect(buildTopology(functionInputsOf(snapshot.topology))).toEqual(snapshot.topology);
  });
});

describe("docs/plan.md", () => {
  it("its worked example gives the output it shows", async () => {
    const md = readFileSync(new URL("../../../docs/plan.md", import.meta.url), "utf8");
    const [plan, machine] = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const shown = /```\n(SAFE[\s\S]*?)```/.exec(md)![1]!.split("\n");
    const r = await run(await planFile("plan.yaml", plan!), await planFile("machine.yaml", machine!));
    expect(r.code).toBe(0);
    const lines = r.out.replaceAll(dir + path.sep, "").split("\n");
    // the shown output elides with "…"; every line it shows in full is there, in order
    let at = 0;
    for (const line of shown.filter((l) => l !== "" && !l.includes("…"))) {
      const found = lines.indexOf(line, at);
      expect([line, found >= 0]).toEqual([line, true]);
      at = found + 1;
    }
  });
});

describe.skipIf(archives.length === 0)("check over the oracle cases (skipped when ../shared/oracle-cases is absent)", () => {
  it("each kernel group to a guest of its own is safe, except groups a shpchp-bound bridge makes non-viable since 5.19", async () => {
    const failures: string[] = [];
    let blockedByShpchp = 0;
    for (const name of archives) {
      const { snapshot } = await loadSource(path.join(SHARED, name));
      const guests = [...(snapshot.kernelGroups ?? [])]
        .map(([id, members]) => [id, members.filter((b) => snapshot.topology.functions.get(b)?.headerType === 0)] as const)
        .filter(([, members]) => members.length > 0)
        .map(([id, members]) => `  - name: g${id}\n    devices: [${members.join(", ")}]\n`);
      if (guests.length === 0) continue;
      const plan = await planFile(`${name}.yaml`, `guests:\n${guests.join("")}`);
      const r = await run(plan, path.join(SHARED, name), { json: true });
      const data = JSON.parse(r.out) as CheckJson;
      const errors = data.findings.filter((f) => f.severity === "error");
      const onlyShpchp = errors.every(
        (f) => f.code === "group-not-viable" && (f.detail.blockers as { driver: string }[]).every((b) => b.driver === "shpchp"),
      );
      if (errors.length > 0 && onlyShpchp) {
        blockedByShpchp++;
        const old = JSON.parse((await run(plan, path.join(SHARED, name), { json: true, kernel: "5.15" })).out) as CheckJson;
        if (old.verdict !== "safe") failures.push(`${name} (5.15): ${old.findings.map((f) => f.text).join(" | ")}`);
      } else if (r.code !== 0) failures.push(`${name}: ${errors.map((f) => f.text).join(" | ")}`);
    }
    expect(failures).toEqual([]);
    expect(blockedByShpchp).toBeGreaterThan(0);
  });

  it("splitting any multi-function group between two guests is unsafe, with the group's explanation", async () => {
    const failures: string[] = [];
    let tried = 0;
    for (const name of archives) {
      const { snapshot } = await loadSource(path.join(SHARED, name));
      const group = [...(snapshot.kernelGroups ?? [])]
        .map(([id, members]) => [id, members.filter((b) => snapshot.topology.functions.get(b)?.headerType === 0)] as const)
        .find(([, members]) => members.length >= 2);
      if (!group) continue;
      tried++;
      const [id, members] = group;
      const plan = await planFile(`${name}-split.yaml`, `guests:\n  - name: a\n    devices: [${members[0]}]\n  - name: b\n    devices: [${members.slice(1).join(", ")}]\n`);
      const r = await run(plan, path.join(SHARED, name), { json: true });
      const data = JSON.parse(r.out) as CheckJson;
      const split = data.findings.find((f) => f.code === "group-split");
      if (r.code !== 1 || !split || split.detail.group !== id) failures.push(`${name}: exit ${r.code}, ${data.findings.map((f) => f.text).join(" | ")}`);
      else if (!(split.detail.members as { steps: unknown[] }[]).every((m) => m.steps.length > 0)) failures.push(`${name}: a member without explanation`);
    }
    expect(failures).toEqual([]);
    expect(tried).toBeGreaterThan(20);
  });
});
