/**
 * Plans over synthetic machines: one behaviour of the check per machine.
 */
import { describe, expect, it } from "vitest";
import { encodeDmar, encodeDrhd, encodeIort, encodeRmrr } from "../acpi/encode.js";
import { SCOPE_BRIDGE, SCOPE_ENDPOINT } from "../acpi/dmar.js";
import type { PredictOptions } from "../iommu/predict.js";
import { parseKernelVersion } from "../kernel/version.js";
import type { Snapshot } from "../sources/snapshot.js";
import { fnInput, parts, snapshotOf } from "../testing/topology-builder.js";
import { formatRid } from "../topology/address.js";
import { checkPlan } from "./check.js";
import type { CheckResult } from "./check.js";
import type { Finding } from "./findings.js";
import { RMRR_CORE_MESSAGE, RMRR_INTEL_MESSAGE, findingText, refusalText } from "./messages.js";
import { parsePlan } from "./parse.js";
import { formatPlanProblem } from "./plan.js";
import { checkToJson } from "./to-json.js";

const ACS_OK = { cap: 0x5f, ctrl: 0x1d };

function outcome(machine: Snapshot, yaml: string, predict: PredictOptions = {}) {
  const parsed = parsePlan(yaml, "plan.yaml");
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => formatPlanProblem("plan.yaml", p)).join("\n"));
  return checkPlan(machine, parsed.plan, { predict, label: "the machine" });
}

function run(machine: Snapshot, yaml: string, predict: PredictOptions = {}): CheckResult {
  const o = outcome(machine, yaml, predict);
  if (!o.ok) throw new Error(o.problems.map((p) => formatPlanProblem("plan.yaml", p)).join("\n"));
  return o.result;
}

function problems(machine: Snapshot, yaml: string): string[] {
  const o = outcome(machine, yaml);
  if (o.ok) throw new Error("expected plan problems");
  return o.problems.map((p) => formatPlanProblem("plan.yaml", p));
}

const only = <C extends Finding["code"]>(r: CheckResult, code: C): Extract<Finding, { code: C }>[] =>
  r.findings.filter((f): f is Extract<Finding, { code: C }> => f.code === code);
const kernel = (v: string): PredictOptions => ({ kernel: parseKernelVersion(v)! });

/** a GPU with its audio function and a NIC, each behind an ACS root port */
const desktop = (): Snapshot =>
  snapshotOf([
    fnInput("00:00.0", parts.hostBridge()),
    fnInput("00:01.0", parts.rootPort(1), { driver: "pcieport" }),
    fnInput("00:02.0", parts.rootPort(2), { driver: "pcieport" }),
    fnInput("01:00.0", { pcieType: 0, multifunction: true, classCode: 0x030000, vendor: 0x10de, device: 0x1b80 }, { driver: "nouveau" }),
    fnInput("01:00.1", { pcieType: 0, classCode: 0x040300, vendor: 0x10de, device: 0x10f0 }, { driver: "snd_hda_intel" }),
    fnInput("02:00.0", { pcieType: 0, classCode: 0x020000, vendor: 0x8086, device: 0x10d3 }),
  ]);

/** kernel-spec TV6: two conventional devices behind a PCIe-to-PCI bridge */
const bridged = (bridgeDriver?: string): Snapshot =>
  snapshotOf([
    fnInput("00:1e.0", parts.rootPort(1, 2), { driver: "pcieport" }),
    fnInput("01:00.0", parts.pcieToPci(1, 2), bridgeDriver ? { driver: bridgeDriver } : {}),
    fnInput("02:01.0", { ...parts.conventional(), classCode: 0x020000 }),
    fnInput("02:02.0", { ...parts.conventional(), classCode: 0x040100 }),
  ]);

describe("a clean plan", () => {
  const plan = `guests:
  - name: win
    devices: [class:0300, 01:00.1]
  - name: nas
    devices: [8086:10d3]
`;

  it("is safe and comes with the actions to apply it", () => {
    const r = run(desktop(), plan);
    expect(r.verdict).toBe("safe");
    expect(r.findings.filter((f) => f.code !== "rmrr-not-checked")).toEqual([]);
    expect([...r.resolution.guestOf]).toEqual([
      ["0000:01:00.0", "win"],
      ["0000:01:00.1", "win"],
      ["0000:02:00.0", "nas"],
    ]);
    const a = r.actions!;
    expect(a.driverctl).toEqual([
      "driverctl set-override 0000:01:00.0 vfio-pci",
      "driverctl set-override 0000:01:00.1 vfio-pci",
      "driverctl set-override 0000:02:00.0 vfio-pci",
    ]);
    expect(a.sysfs.slice(0, 4)).toEqual([
      "modprobe vfio-pci",
      "echo vfio-pci > /sys/bus/pci/devices/0000:01:00.0/driver_override",
      "echo 0000:01:00.0 > /sys/bus/pci/devices/0000:01:00.0/driver/unbind",
      "echo 0000:01:00.0 > /sys/bus/pci/drivers_probe",
    ]);
    // no driver recorded: unbind only if something is bound by then
    expect(a.sysfs).toContain("[ -e /sys/bus/pci/devices/0000:02:00.0/driver ] && echo 0000:02:00.0 > /sys/bus/pci/devices/0000:02:00.0/driver/unbind");
    expect(a.guests[0]!.libvirt[0]).toBe(
      "<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n  </source>\n</hostdev>",
    );
    expect(a.guests[0]!.qemu).toEqual(["-device vfio-pci,host=0000:01:00.0", "-device vfio-pci,host=0000:01:00.1"]);
    expect(a.guests[1]!.qemu).toEqual(["-device vfio-pci,host=0000:02:00.0"]);
  });

  it("without a DMAR table notes that RMRRs went unchecked", () => {
    const notes = only(run(desktop(), plan), "rmrr-not-checked");
    expect(notes.map(findingText)).toEqual(["the source has no DMAR table, so RMRRs were not checked"]);
  });

  it("a half-taken group is split with the host, and the fix names the missing function", () => {
    const r = run(desktop(), "guests:\n  - name: win\n    devices: [01:00.0]\n");
    expect(r.verdict).toBe("unsafe");
    expect(r.actions).toBeUndefined();
    const [split] = only(r, "group-split");
    expect(findingText(split!)).toBe("group 3 is split between guest win (0000:01:00.0) and the host (0000:01:00.1)");
    expect(split!.wholeGroup).toEqual([{ guest: "win", move: [{ bdf: "0000:01:00.1", from: "host" }] }]);
    expect(split!.members.map((m) => m.role)).toEqual(["guest", "host"]);
  });

  it("a more specific selector overrides a broader one; equal ones in two places are a plan error", () => {
    const r = run(desktop(), "guests:\n  - name: win\n    devices: [10de:1b80, 10de:10f0]\nhost: [class:0300]\n");
    expect(r.resolution.guestOf.get("0000:01:00.0")).toBe("win");
    expect(problems(desktop(), "guests:\n  - name: win\n    devices: [01:00.0]\n  - name: lin\n    devices: [0000:01:00.0]\n")).toEqual([
      "plan.yaml:5: guests[1].devices[0]: 0000:01:00.0 is selected here for guest lin and at guests[0].devices[0] (line 3) for guest win; a function goes to one place only: name it by BDF where it belongs",
    ]);
  });

  it("a selector matching nothing, or an unknown BDF, is bad input naming its line", () => {
    expect(problems(desktop(), "guests:\n  - name: a\n    devices:\n      - 01:00.0\n      - class:0c03\n      - 0000:05:00.0\n")).toEqual([
      "plan.yaml:5: guests[0].devices[1]: 'class:0c03' matches no function in the machine; run 'iommu-atlas show' to list the functions",
      "plan.yaml:6: guests[0].devices[2]: no function 0000:05:00.0 in the machine; run 'iommu-atlas show' to list the functions",
    ]);
  });

  it("a host entry with a driver gets that driver; one already bound needs no sysfs steps", () => {
    const r = run(desktop(), "guests:\n  - name: nas\n    devices: [02:00.0]\nhost:\n  - { select: 01:00.1, driver: pci-stub }\n  - { select: 01:00.0, driver: nouveau }\n");
    // the GPU's group stays with the host as a whole, so this is safe
    expect(r.verdict).toBe("safe");
    expect(r.actions!.driverctl).toEqual([
      "driverctl set-override 0000:02:00.0 vfio-pci",
      "driverctl set-override 0000:01:00.0 nouveau",
      "driverctl set-override 0000:01:00.1 pci-stub",
    ]);
    expect(r.actions!.sysfs.filter((l) => l.includes("01:00.0"))).toEqual([]);
    expect(r.actions!.sysfs).toContain("echo pci-stub > /sys/bus/pci/devices/0000:01:00.1/driver_override");
  });

    it("a guest device bound to anything but a vfio driver is an error", () => {
    const r = run(desktop(), "guests:\n  - name: win\n    driver: pci-stub\n    devices: [01:00.0, 01:00.1]\n");
    expect(only(r, "driver-not-vfio").map((f) => f.bdf)).toEqual(["0000:01:00.0", "0000:01:00.1"]);
    expect(only(r, "group-not-viable")).toEqual([]); // pci-stub is fine for viability, useless for a guest
    expect(r.verdict).toBe("unsafe");
  });

  it("JSON carries the verdict, counts and texts", () => {
    const r = run(desktop(), plan);
    const json = checkToJson(r, desktop(), "desktop");
    expect(json.schema).toBe("iommu-atlas/check@1");
    expect(json.verdict).toBe("safe");
    expect(json.counts).toEqual({ errors: 0, warnings: 0, info: 1, refused: 0 });
    expect(json.guests[0]!.functions.map((f) => [f.bdf, f.driverNow, f.driver, f.group, f.selectedBy.text])).toEqual([
      ["0000:01:00.0", "nouveau", "vfio-pci", 3, "class:0300"],
      ["0000:01:00.1", "snd_hda_intel", "vfio-pci", 3, "01:00.1"],
    ]);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

describe("a group split across guests (PCIe-to-PCI bridge)", () => {
  const plan = "guests:\n  - name: a\n    devices: [02:01.0]\n  - name: b\n    devices: [02:02.0]\n";

  it("is unsafe, explains the group, names the fix and the shared requester ID", () => {
    const r = run(bridged(), plan);
    expect(r.verdict).toBe("unsafe");
    const [split] = only(r, "group-split");
    expect(findingText(split!)).toBe("group 1 is split between guest a (0000:02:01.0) and guest b (0000:02:02.0)");
    expect(split!.members.map((m) => [m.bdf, m.role, m.steps.map((s) => s.code)])).toEqual([
      ["0000:01:00.0", "bridge", ["acs-isolated", "new-group"]],
      ["0000:02:01.0", "guest", ["alias-bridge-group"]],
      ["0000:02:02.0", "guest", ["alias-bridge-group"]],
    ]);
    expect(split!.wholeGroup).toEqual([
      { guest: "a", move: [{ bdf: "0000:02:02.0", from: "b" }] },
      { guest: "b", move: [{ bdf: "0000:02:01.0", from: "a" }] },
    ]);
    expect(split!.splits).toEqual([]);
    expect(split!.noSplit).toEqual({ reason: "bridge-alias", via: "0000:01:00.0" });

    const [conflict] = only(r, "alias-conflict");
    expect(conflict!.rids.map(formatRid)).toEqual(["02:00.0"]);
    expect(conflict!.emitters.map((e) => [e.bdf, e.domain, e.cause, e.via])).toEqual([
      ["0000:02:01.0", "a", "bridge", "0000:01:00.0"],
      ["0000:02:02.0", "b", "bridge", "0000:01:00.0"],
    ]);
  });

  it("is safe when one guest takes the whole group; the bridge stands aside", () => {
    const r = run(bridged(), "guests:\n  - name: a\n    devices: [02:01.0, 02:02.0]\n");
    expect(r.verdict).toBe("safe");
    expect(r.domainOf("0000:01:00.0")).toBe("a");
    expect(r.actions!.guests[0]!.functions).toEqual(["0000:02:01.0", "0000:02:02.0"]);
  });

  it("a bridge a guest lists is only a warning: it is never handed over", () => {
    const r = run(bridged(), "guests:\n  - name: a\n    devices: [01:00.0, 02:01.0, 02:02.0]\n");
    expect(r.verdict).toBe("safe");
    expect(only(r, "bridge-in-guest").map((f) => f.bdf)).toEqual(["0000:01:00.0"]);
    expect(r.actions!.driverctl).toHaveLength(2);
  });

  it("offers the ACS override variants where they split a group, and says they only pretend", () => {
    // switch downstream ports without ACS: both ports' endpoints share the root port's group
    const m = snapshotOf([
      fnInput("00:1c.0", parts.rootPort(1, 4, false), { driver: "pcieport" }),
      fnInput("01:00.0", parts.upstream(1, 2, 4), { driver: "pcieport" }),
      fnInput("02:00.0", parts.downstream(2, 3), { driver: "pcieport" }),
      fnInput("02:01.0", parts.downstream(2, 4), { driver: "pcieport" }),
      fnInput("03:00.0", parts.endpoint()),
      fnInput("04:00.0", parts.endpoint()),
    ]);
    const r = run(m, "guests:\n  - name: a\n    devices: [03:00.0]\n  - name: b\n    devices: [04:00.0]\n");
    const [split] = only(r, "group-split");
    expect(split!.splits.length).toBeGreaterThan(0);
    expect(split!.splits.some((s) => s.separates)).toBe(true);
    expect(split!.noSplit).toBeUndefined();
  });
});

describe("viability before and after 5.19", () => {
  const plan = "guests:\n  - name: a\n    devices: [02:01.0, 02:02.0]\n";

  it("a bridge bound to a kernel-DMA driver blocks the group since 5.19", () => {
    const r = run(bridged("shpchp"), plan, kernel("6.1"));
    const [nv] = only(r, "group-not-viable");
    expect(nv).toMatchObject({ group: 1, guest: "a", model: "dma-ownership", blockers: [{ bdf: "0000:01:00.0", driver: "shpchp" }] });
    expect(r.verdict).toBe("unsafe");
  });

  it("up to 5.18 a bridge may have any driver", () => {
    const r = run(bridged("shpchp"), plan, kernel("5.15"));
    expect(only(r, "group-not-viable")).toEqual([]);
    expect(r.verdict).toBe("safe");
  });

  it("pcieport is fine in both models", () => {
    expect(run(bridged("pcieport"), plan, kernel("6.8")).verdict).toBe("safe");
    expect(run(bridged("pcieport"), plan, kernel("5.4")).verdict).toBe("safe");
  });

  it("a guest function asked onto a host driver blocks its group", () => {
    const r = run(bridged(), "guests:\n  - name: a\n    devices: [{ select: 02:01.0, driver: e1000 }, 02:02.0]\n", kernel("6.1"));
    expect(only(r, "group-not-viable")[0]!.blockers).toEqual([{ bdf: "0000:02:01.0", driver: "e1000" }]);
    expect(only(r, "driver-not-vfio").map((f) => f.driver)).toEqual(["e1000"]);
  });
});

describe("RMRR", () => {
  const dmar = encodeDmar([
    encodeDrhd({ includeAll: true, registerBase: 0xfed90000n }),
    encodeRmrr({ base: 0x7c000000n, limit: 0x7c7fffffn, scopes: [{ type: SCOPE_ENDPOINT, startBus: 0, path: [[0x19, 0]] }] }),
    encodeRmrr({
      base: 0x000e8000n,
      limit: 0x000e8fffn,
      scopes: [
        { type: SCOPE_ENDPOINT, startBus: 0, path: [[0x14, 0]] },
        { type: SCOPE_ENDPOINT, startBus: 0, path: [[0x02, 0]] },
        { type: SCOPE_BRIDGE, startBus: 0, path: [[0x1c, 0]] },
      ],
    }),
  ]);
  const machine = (): Snapshot =>
    snapshotOf(
      [
        fnInput("00:00.0", parts.hostBridge()),
        fnInput("00:02.0", { classCode: 0x030000 }),
        fnInput("00:14.0", { classCode: 0x0c0330 }),
        fnInput("00:19.0", { classCode: 0x020000 }),
        fnInput("00:1c.0", parts.rootPort(1), { driver: "pcieport" }),
        fnInput("01:00.0", parts.endpoint()),
      ],
      { acpi: { dmar } },
    );

  it("a NIC with an RMRR is refused, with the kernel's words for its era", () => {
    const plan = "guests:\n  - name: a\n    devices: [00:19.0]\n";
    const old = only(run(machine(), plan, kernel("6.1")), "rmrr");
    expect(old).toMatchObject([{ bdf: "0000:00:19.0", via: "0000:00:19.0", outcome: "refused-intel", regions: [{ base: 0x7c000000n, limit: 0x7c7fffffn }] }]);
    expect(findingText(old[0]!)).toContain(RMRR_INTEL_MESSAGE);
    const r = run(machine(), plan, kernel("6.8"));
    expect(r.verdict).toBe("unsafe");
    expect(findingText(only(r, "rmrr")[0]!)).toContain(RMRR_CORE_MESSAGE);
    expect(only(run(machine(), plan, kernel("3.10")), "rmrr")[0]!.outcome).toBe("not-enforced");
  });

  it("arm64: an IORT RMR naming a function's StreamID is reported like an RMRR; remapping permitted relaxes it", () => {
    const iort = (flags: number) =>
      encodeIort([
        { type: "its", its: [0] },
        { type: "smmuv3", base: 0x9050000n },
        { type: "root-complex", segment: 0, mappings: [{ inputBase: 0, count: 0x10000, outputBase: 0, to: 1 }] },
        { type: "rmr", flags, ranges: [[0xe0000000n, 0x10000n]], mappings: [{ inputBase: 0x100, count: 1, outputBase: 0x100, to: 1 }] },
      ]);
    const arm = (flags: number): Snapshot =>
      snapshotOf(
        [
          fnInput("00:00.0", parts.hostBridge()),
          fnInput("00:01.0", parts.rootPort(1), { driver: "pcieport" }),
          fnInput("00:02.0", parts.rootPort(2), { driver: "pcieport" }),
          fnInput("01:00.0", parts.endpoint(), { driver: "e1000e" }),
          fnInput("02:00.0", parts.endpoint(), { driver: "nvme" }),
        ],
        { acpi: { iort: iort(flags) } },
      );
    const plan = (bdf: string) => `guests:\n  - name: a\n    devices: [${bdf}]\n`;
    const hit = only(run(arm(0), plan("01:00.0"), kernel("6.8")), "rmrr");
    expect(hit).toMatchObject([{ bdf: "0000:01:00.0", table: "IORT", outcome: "refused-core", regions: [{ base: 0xe0000000n, limit: 0xe000ffffn }] }]);
    expect(findingText(hit[0]!)).toContain("has an IORT RMR");
    expect(only(run(arm(0), plan("01:00.0"), kernel("6.1")), "rmrr")[0]!.outcome).toBe("not-enforced");
    expect(only(run(arm(1), plan("01:00.0"), kernel("6.8")), "rmrr")).toMatchObject([{ relaxable: "rmr", outcome: "relaxed" }]);
    // StreamID 0x200 is not named: nothing to report, and the IORT was checked
    const other = run(arm(0), plan("02:00.0"), kernel("6.8"));
    expect(only(other, "rmrr")).toEqual([]);
    expect(only(other, "rmrr-not-checked")).toEqual([]);
  });

  it("USB and (since ≈5.3) graphics are relaxed: a warning, not a refusal", () => {
    const usb = run(machine(), "guests:\n  - name: a\n    devices: [00:14.0]\n", kernel("6.8"));
    expect(only(usb, "rmrr").map((f) => [f.relaxable, f.outcome])).toEqual([["usb", "relaxed"]]);
    expect(usb.verdict).toBe("safe");
    const gpu = "guests:\n  - name: a\n    devices: [00:02.0]\n";
    expect(only(run(machine(), gpu, kernel("5.4")), "rmrr")[0]!.outcome).toBe("relaxed");
    expect(only(run(machine(), gpu, kernel("5.2")), "rmrr")[0]!.outcome).toBe("refused-intel");
  });

  it("an RMRR on a bridge covers the devices below it", () => {
    const [f] = only(run(machine(), "guests:\n  - name: a\n    devices: [01:00.0]\n"), "rmrr");
    expect(f).toMatchObject({ bdf: "0000:01:00.0", via: "0000:00:1c.0", outcome: "refused-intel" });
  });

  it("regions survive into JSON as hex text", () => {
    const r = run(machine(), "guests:\n  - name: a\n    devices: [00:19.0]\n", kernel("6.8"));
    const json = checkToJson(r, machine(), "m");
    const f = json.findings.find((x) => x.code === "rmrr")!;
    expect(f.severity).toBe("error");
    expect(f.detail.regions).toEqual([{ base: "0x7c000000", limit: "0x7c7fffff" }]);
    expect(() => JSON.stringify(json)).not.toThrow();
  });

  it("functions the plan leaves with the host are not checked", () => {
    expect(only(run(machine(), "guests:\n  - name: a\n    devices: [00:00.0]\n"), "rmrr")).toEqual([]);
  });
});

describe("alias conflicts", () => {
  it("a PLX NTB's 256 devfns capture its sibling's requester ID", () => {
    const m = snapshotOf([
      fnInput("00:1c.0", parts.rootPort(6), { driver: "pcieport" }),
      fnInput("06:00.0", { pcieType: 0, multifunction: true, acs: ACS_OK, classCode: 0x058000 }),
      fnInput("06:00.1", { pcieType: 0, vendor: 0x10b5, device: 0x87b0, acs: ACS_OK, classCode: 0x068000 }),
    ]);
    const r = run(m, "guests:\n  - name: a\n    devices: [10b5:87b0]\n  - name: b\n    devices: [06:00.0]\n");
    const conflicts = only(r, "alias-conflict");
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]!.rids.map(formatRid)).toEqual(["06:00.0"]);
    expect(conflicts[0]!.emitters.map((e) => [e.bdf, e.domain, e.cause, e.source])).toEqual([
      ["0000:06:00.0", "b", "own", undefined],
      ["0000:06:00.1", "a", "quirk", "plx-ntb-dma-alias/plx-pex"],
    ]);
    // the kernel groups them together for the same reason
    expect(only(r, "group-split")).toHaveLength(1);
  });

  it("phantom functions reach a sibling in another group", () => {
    const m = snapshotOf([
      fnInput("00:1c.0", parts.rootPort(3), { driver: "pcieport" }),
      fnInput("03:00.0", { pcieType: 0, multifunction: true, acs: ACS_OK, phantom: 1 }),
      fnInput("03:00.4", { pcieType: 0, acs: ACS_OK }),
    ]);
    const r = run(m, "guests:\n  - name: a\n    devices: [03:00.0]\n  - name: b\n    devices: [03:00.4]\n");
    expect(only(r, "group-split")).toEqual([]);
    const [c] = only(r, "alias-conflict");
    expect(c!.rids.map(formatRid)).toEqual(["03:00.4"]);
    expect(c!.emitters.map((e) => [e.bdf, e.cause, e.phantomEnabled])).toEqual([
      ["0000:03:00.0", "phantom", false],
      ["0000:03:00.4", "own", undefined],
    ]);
    expect(r.verdict).toBe("unsafe");
  });
});

describe("guest alias requests", () => {
  it("are always refused, each requester ID with its reason, and do not fail a safe plan", () => {
    const r = run(
      desktop(),
      `guests:
  - name: win
    devices: [01:00.0, 01:00.1]
  - name: nas
    devices: [02:00.0]
alias_requests:
  - guest: nas
    device: 02:00.0
    requester_ids: ["01:00.0", "02:00.3", "00:07.0", "00.0"]
  - guest: nas
    device: 01:00.1
    requester_ids: ["01:00.1"]
`,
    );
    expect(r.verdict).toBe("safe");
    expect(r.counts.refused).toBe(2);
    expect(r.aliasRequests.every((a) => a.decision === "refused")).toBe(true);
    const [first, second] = r.aliasRequests;
    const texts = first!.rids.map((x) => x.reasons.map((y) => refusalText(y, formatRid(x.rid))));
    expect(texts[0]).toEqual([
      "01:00.0 would capture DMA of 0000:01:00.0 (guest win) as its own requester ID",
      "01:00.0 is not on the device's bus (02); the kernel's alias mask only holds devfns of the device's own bus",
    ]);
    expect(texts[1]).toEqual([
      "02:00.3 is on a bus below bridge 0000:00:02.0 (the host): a device hot-plugged there, or one the host never enumerated, would be captured",
    ]);
    expect(first!.rids[2]!.reasons.map((y) => y.code)).toEqual(["cross-bus", "unprovable"]);
    expect(first!.rids[3]!.reasons.map((y) => y.code)).toEqual(["own-rid"]);
    expect(first!.reasons.map((y) => y.code)).toEqual(["guest-claim", "after-grouping"]);
    expect(second!.reasons.map((y) => y.code)).toEqual(["not-guest-device", "guest-claim", "after-grouping"]);
  });

  it("a request for a device the machine lacks is bad input", () => {
    expect(problems(desktop(), "guests:\n  - name: a\n    devices: [02:00.0]\nalias_requests:\n  - guest: a\n    device: 07:00.0\n    requester_ids: [07:00.1]\n")).toEqual([
      "plan.yaml:6: alias_requests[0].device: no function 0000:07:00.0 in the machine; run 'iommu-atlas show' to list the functions",
    ]);
  });
});

describe("SR-IOV before enabling", () => {
  const machine = (subordinate = 4, offset = 0x80, stride = 2): Snapshot =>
    snapshotOf([
      fnInput("00:00.0", parts.hostBridge()),
      fnInput("00:03.0", parts.rootPort(3, subordinate), { driver: "pcieport" }),
      fnInput("03:00.0", { pcieType: 0, vendor: 0x8086, device: 0x1521, sriov: { totalVFs: 8, numVFs: 0, offset, stride, vfDevice: 0x1520, enabled: false } }, { driver: "igb" }),
    ]);

  it("predicts the VFs, their requester IDs and groups, and enables them before binding", () => {
    const r = run(machine(), 'sriov:\n  "03:00.0": 4\nguests:\n  - name: a\n    devices: [03:10.0, 03:10.2]\n  - name: b\n    devices: [0000:03:10.4]\n');
    expect(r.verdict).toBe("safe");
    const [plan] = r.sriov;
    expect(plan!.vfs.map((v) => [v.bdf, v.rid === undefined ? null : formatRid(v.rid), v.virtualBus])).toEqual([
      ["0000:03:10.0", "03:10.0", false],
      ["0000:03:10.2", "03:10.2", false],
      ["0000:03:10.4", "03:10.4", false],
      ["0000:03:10.6", "03:10.6", false],
    ]);
    const g = r.prediction.groups;
    const groupOf = (b: string) => g.groups.find((x) => x.id === g.groupOf.get(b))!.members;
    for (const v of plan!.vfs) expect(groupOf(v.bdf)).toEqual([v.bdf]); // each VF alone
    expect(r.prediction.topology.functions.get("0000:03:10.6")).toMatchObject({ isVirtfn: true, physfn: "0000:03:00.0", predicted: true, device: 0x1520 });
    expect(r.actions!.sriov).toEqual([
      "echo 0 > /sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe",
      "echo 4 > /sys/bus/pci/devices/0000:03:00.0/sriov_numvfs",
    ]);
    expect(r.actions!.driverctl).toEqual([
      "driverctl set-override 0000:03:10.0 vfio-pci",
      "driverctl set-override 0000:03:10.2 vfio-pci",
      "driverctl set-override 0000:03:10.4 vfio-pci",
    ]);
  });

  it("VFs past the bus range are refused by the kernel, with its message", () => {
    const r = run(machine(3, 0xf0, 8), 'sriov:\n  "03:00.0": 4\n');
    const [f] = only(r, "sriov-bus-overflow");
    expect(f).toMatchObject({ pf: "0000:03:00.0", vf: 2, bus: 4, busLimit: 3, bridge: "0000:00:03.0" });
    expect(findingText(f!)).toContain('"can\'t enable 4 VFs (bus 04 out of range of [bus 03-03])"');
    expect(r.verdict).toBe("unsafe");
    // with room for bus 04 they sit on a virtual bus
    expect(run(machine(4, 0xf0, 8), 'sriov:\n  "03:00.0": 4\n').sriov[0]!.vfs.map((v) => v.virtualBus)).toEqual([false, false, true, true]);
  });

  it("more VFs than TotalVFs, a PF without SR-IOV, or a VF not enabled by the plan is bad input", () => {
    expect(problems(machine(), 'sriov:\n  "03:00.0": 9\n')).toEqual([
      'plan.yaml:2: sriov["03:00.0"]: 9 VFs asked, but 0000:03:00.0 offers at most 8 (TotalVFs); the kernel would refuse the write',
    ]);
    expect(problems(machine(), 'sriov:\n  "00:03.0": 1\n')).toEqual(['plan.yaml:2: sriov["00:03.0"]: 0000:00:03.0 has no SR-IOV capability']);
    expect(problems(machine(), "guests:\n  - name: a\n    devices: [03:10.2]\n")).toEqual([
      'plan.yaml:3: guests[0].devices[0]: no function 0000:03:10.2 in the machine; it would be VF 1 of 0000:03:00.0: add "0000:03:00.0": 2 (or more) under sriov',
    ]);
  });

  it("warns when the PF itself goes to a guest while its VFs are enabled", () => {
    const r = run(machine(), 'sriov:\n  "03:00.0": 2\nguests:\n  - name: a\n    devices: [03:00.0]\n');
    expect(only(r, "pf-with-vfs-to-guest")).toEqual([{ code: "pf-with-vfs-to-guest", pf: "0000:03:00.0", guest: "a", numVfs: 2 }]);
  });
});

describe("the kernel's recorded groups", () => {
  it("a prediction that disagrees with them is a warning naming both", () => {
    // the source says the kernel put the GPU and its audio function in separate groups
    const m = desktop();
    const recorded: Snapshot = { ...m, kernelGroups: new Map([[3, ["0000:01:00.0"]], [4, ["0000:01:00.1"]]]) };
    const withGroups: Snapshot = {
      ...recorded,
      topology: {
        ...m.topology,
        functions: new Map([...m.topology.functions].map(([b, f]) => [b, b === "0000:01:00.0" ? { ...f, kernelGroup: 3 } : b === "0000:01:00.1" ? { ...f, kernelGroup: 4 } : f])),
      },
    };
    const r = run(withGroups, "guests:\n  - name: win\n    devices: [01:00.0, 01:00.1]\n");
    expect(only(r, "kernel-groups-differ")).toEqual([
      { code: "kernel-groups-differ", group: 3, kernelGroup: 3, kernelMembers: ["0000:01:00.0"], predicted: ["0000:01:00.0", "0000:01:00.1"] },
    ]);
    expect(r.verdict).toBe("safe");
  });
});

describe("functions VFIO cannot take at all", () => {
  it("with the IOMMU off nothing has a group", () => {
    const r = run(desktop(), "guests:\n  - name: a\n    devices: [02:00.0]\n", { cmdline: "intel_iommu=off" });
    expect(only(r, "no-group")).toEqual([{ code: "no-group", bdf: "0000:02:00.0", guest: "a", reason: "iommu-off" }]);
  });
});
