import { describe, expect, it } from "vitest";
import { parsePlan } from "./parse.js";
import type { Plan, PlanProblem } from "./plan.js";
import { formatPlanProblem } from "./plan.js";

function ok(text: string): Plan {
  const r = parsePlan(text, "plan.yaml");
  if (!r.ok) throw new Error(r.problems.map((p) => formatPlanProblem("plan.yaml", p)).join("\n"));
  return r.plan;
}

function problems(text: string): string[] {
  const r = parsePlan(text, "plan.yaml");
  if (r.ok) throw new Error("expected problems");
  return r.problems.map((p: PlanProblem) => formatPlanProblem("plan.yaml", p));
}

describe("parsePlan", () => {
  it("reads guests, host, sriov and alias requests with their lines", () => {
    const plan = ok(`# a plan
schema: iommu-atlas/plan@1
description: GPU to win, VFs to two guests
guests:
  - name: win
    devices:
      - 0000:01:00.0
      - 01:00.1
      - { select: "10de:1b80", driver: vfio-pci }
  - name: nas
    driver: pci-stub
    devices: [class:0c03, 0300, 0106]
host: [00:1f.0]
sriov:
  "0000:81:00.0": 4
alias_requests:
  - guest: nas
    device: 0000:81:10.0
    requester_ids: ["81:10.1", 10.2]
    reason: proxy IDs
`);
    expect(plan.guests.map((g) => [g.name, g.driver, g.line])).toEqual([
      ["win", "vfio-pci", 5],
      ["nas", "pci-stub", 10],
    ]);
    const win = plan.guests[0]!.devices;
    expect(win.map((d) => [d.selector, d.line, d.path])).toEqual([
      [{ kind: "bdf", bdf: "0000:01:00.0" }, 7, "guests[0].devices[0]"],
      [{ kind: "bdf", bdf: "0000:01:00.1" }, 8, "guests[0].devices[1]"],
      [{ kind: "id", vendor: 0x10de, device: 0x1b80 }, 9, "guests[0].devices[2]"],
    ]);
    expect(win[2]!.driver).toBe("vfio-pci");
    // unquoted 0300 stays a class code (the failsafe schema keeps the text)
    expect(plan.guests[1]!.devices.map((d) => d.selector)).toEqual([
      { kind: "class", code: 0x0c03, digits: 4 },
      { kind: "class", code: 0x0300, digits: 4 },
      { kind: "class", code: 0x0106, digits: 4 },
    ]);
    expect(plan.host.map((d) => d.selector)).toEqual([{ kind: "bdf", bdf: "0000:00:1f.0" }]);
    expect(plan.sriov).toEqual([{ pf: "0000:81:00.0", numVfs: 4, line: 15, path: 'sriov["0000:81:00.0"]' }]);
    const req = plan.aliasRequests[0]!;
    expect([req.guest, req.device, req.reason, req.line]).toEqual(["nas", "0000:81:10.0", "proxy IDs", 17]);
    expect(req.requesterIds.map((r) => [r.text, r.rid, r.line])).toEqual([
      ["81:10.1", { segment: undefined, bus: 0x81, devfn: 0x81 }, 19],
      ["10.2", { segment: undefined, bus: undefined, devfn: 0x82 }, 19],
    ]);
  });

  it("names the line and field of every schema problem", () => {
    expect(
      problems(`guests:
  - name: a
    devices: [gpu]
    drv: x
  - name: b
    devices: []
sriov:
  "0000:81:00.0": many
  zz: 3
`),
    ).toEqual([
      "plan.yaml:3: guests[0].devices[0]: 'gpu' is not a BDF, vendor:device or class; write 0000:01:00.0, 10de:1b80 or class:0300",
      "plan.yaml:4: guests[0]: unknown field 'drv' (see docs/plan.md for the fields a plan has)",
      "plan.yaml:6: guests[1].devices: needs at least 1 entry",
      'plan.yaml:8: sriov["0000:81:00.0"]: expected a VF count: a whole number up to 65535',
      "plan.yaml:9: sriov.zz: 'zz' is not a PCI address; write [dddd:]bb:dd.f, e.g. 0000:81:00.0",
    ]);
  });

  it("reports YAML syntax errors at their line", () => {
    const [first] = problems("guests:\n  - name: a\n    devices: [0000:01:00.0\n  - x\n");
    expect(first).toMatch(/^plan\.yaml:\d: Flow sequence/);
    expect(problems("a: 1\na: 2\n")[0]).toMatch(/^plan\.yaml:2: Map keys must be unique/);
  });

  it("rejects missing fields, wrong shapes and empty files", () => {
    expect(problems("guests:\n  - devices: [01:00.0]\n")).toEqual(["plan.yaml:2: guests[0].name: required, but missing"]);
    expect(problems("guests: 01:00.0\n")).toEqual(["plan.yaml:1: guests: expected a list, found the text '01:00.0'"]);
    expect(problems("")).toEqual(["plan.yaml:1: the plan is empty; expected a map with guests, host, sriov or alias_requests (see docs/plan.md)"]);
    expect(problems("- a\n")[0]).toMatch(/^plan\.yaml:1: expected a map/);
    expect(problems("guests:\n  - name: a\n    devices: [[01:00.0]]\n")).toEqual([
      "plan.yaml:3: guests[0].devices[0]: expected a selector (0000:01:00.0, 10de:1b80 or class:0300) or a map with select and driver",
    ]);
  });

  it("rejects contradictions inside the plan", () => {
    expect(
      problems(`guests:
  - name: a
    devices: [01:00.0]
  - name: a
    devices: [02:00.0]
  - name: host
    devices: [03:00.0]
sriov:
  81:00.0: 2
  0000:81:00.0: 3
alias_requests:
  - guest: c
    device: 01:00.0
    requester_ids: [01:00.1]
`),
    ).toEqual([
      "plan.yaml:4: guests[1].name: guest 'a' is already defined at guests[0].name; guest names must be unique",
      "plan.yaml:6: guests[2].name: 'host' names the functions the host keeps; pick another guest name",
      'plan.yaml:10: sriov["0000:81:00.0"]: 0000:81:00.0 appears twice in sriov; give each PF one VF count',
      "plan.yaml:12: alias_requests[0].guest: no guest named 'c' in this plan (guests: a)",
    ]);
  });
});
