import { describe, expect, it } from "vitest";
import { fnInput, parts, topo } from "../testing/topology-builder.js";

describe("buildTopology", () => {
  it("links buses to their bridges and derives bridge kinds", () => {
    const t = topo([
      fnInput("00:00.0", parts.hostBridge()),
      fnInput("00:1e.0", parts.rootPort(1, 2)),
      fnInput("01:00.0", parts.pcieToPci(1, 2)),
      fnInput("02:01.0", parts.conventional()),
    ]);
    expect(t.buses.get("0000:02")).toMatchObject({ self: "0000:01:00.0", parent: "0000:01" });
    expect(t.buses.get("0000:00")?.parent).toBeUndefined();
    expect(t.functions.get("0000:01:00.0")?.bridgeKind).toBe("pcie-to-pci");
    expect(t.functions.get("0000:00:1e.0")?.bridgeKind).toBe("root-port");
    expect(t.functions.get("0000:02:01.0")?.upstream).toBe("0000:01:00.0");
    expect(t.issues).toEqual([]);
  });

  it("orders the scan as the kernel does: a whole bus, then each bridge's subtree; expander root buses last", () => {
    const t = topo([
      fnInput("00:00.0", parts.hostBridge()),
      fnInput("00:01.0", parts.rootPort(1)),
      fnInput("00:02.0", parts.rootPort(2)),
      fnInput("00:1f.0", parts.conventional()),
      fnInput("01:00.0", parts.endpoint()),
      fnInput("02:00.0", parts.endpoint()),
      fnInput("40:00.0", parts.rootPort(0x41)),
      fnInput("41:00.0", parts.endpoint()),
    ]);
    expect(t.scanOrder).toEqual([
      "0000:00:00.0",
      "0000:00:01.0",
      "0000:00:02.0",
      "0000:00:1f.0",
      "0000:01:00.0",
      "0000:02:00.0",
      "0000:40:00.0",
      "0000:41:00.0",
    ]);
    expect(t.roots).toEqual(["0000:00", "0000:40"]);
  });

  it("sets multifunction as the kernel does: header bit for fn 0, forced for fn > 0", () => {
    const t = topo([fnInput("00:00.0", parts.hostBridge()), fnInput("00:03.0", { pcieType: 9, multifunction: true }), fnInput("00:03.1", { pcieType: 9 })]);
    expect(t.functions.get("0000:00:03.0")?.multifunction).toBe(true);
    expect(t.functions.get("0000:00:03.1")?.multifunction).toBe(true);
    expect(t.functions.get("0000:00:00.0")?.multifunction).toBe(false);
  });

  it("corrects port types like set_pcie_port_type", () => {
    const t = topo([
      fnInput("00:01.0", parts.rootPort(1, 3)),
      // claims downstream but sits below a root port: really upstream
      fnInput("01:00.0", { headerType: 1, pcieType: 6, bus: { primary: 1, secondary: 2, subordinate: 3 } }),
      // claims upstream below an upstream port: really downstream
      fnInput("02:00.0", { headerType: 1, pcieType: 5, bus: { primary: 2, secondary: 3, subordinate: 3 } }),
    ]);
    expect(t.functions.get("0000:01:00.0")).toMatchObject({ pcieType: 5, pcieTypeRegister: 6, bridgeKind: "upstream-port" });
    expect(t.functions.get("0000:02:00.0")).toMatchObject({ pcieType: 6, pcieTypeRegister: 5, bridgeKind: "downstream-port" });
  });

  it("reports duplicate BDFs and keeps the first", () => {
    const t = topo([fnInput("00:00.0", parts.hostBridge()), fnInput("00:00.0", parts.endpoint())]);
    expect(t.issues).toContainEqual({ code: "duplicate-bdf", bdf: "0000:00:00.0" });
    expect(t.functions.get("0000:00:00.0")?.classCode).toBe(0x060000);
  });

  it("reports a bridge whose secondary bus loops back", () => {
    const t = topo([fnInput("00:01.0", parts.rootPort(1)), fnInput("01:00.0", parts.pciBridge(1, 1))]);
    expect(t.issues.map((i) => i.code)).toContain("bus-loop");
    expect(t.scanOrder).toEqual(["0000:00:01.0", "0000:01:00.0"]);
  });

  it("reports a bus claimed by two bridges and overlapping ranges", () => {
    const t = topo([fnInput("00:01.0", parts.rootPort(1, 2)), fnInput("00:02.0", parts.rootPort(2, 3))]);
    expect(t.issues.map((i) => i.code)).toContain("bus-range-overlap");
    const u = topo([fnInput("00:01.0", parts.rootPort(1)), fnInput("00:02.0", parts.rootPort(1))]);
    expect(u.issues.map((i) => i.code)).toContain("bus-claimed-twice");
  });

  it("marks functions the kernel's scan would not find", () => {
    const t = topo([
      fnInput("00:01.0", parts.rootPort(1)),
      fnInput("01:00.0", parts.endpoint()),
      fnInput("01:01.0", parts.endpoint()), // slot 1 below a root port
      fnInput("00:05.1", parts.endpoint()), // no function 0
      fnInput("00:06.0", parts.endpoint(false)),
      fnInput("00:06.2", parts.endpoint()), // fn 0 not multifunction
    ]);
    const reasons = Object.fromEntries(t.issues.filter((i) => i.code === "not-scanned").map((i) => [i.bdf, i.reason]));
    expect(reasons).toEqual({ "0000:01:01.0": "slot-below-port", "0000:00:05.1": "no-function-0", "0000:00:06.2": "function-0-single" });
    expect(t.scanOrder).not.toContain("0000:01:01.0");
  });

  it("scans every device number below a port with pci=pcie_scan_all, and trusts a kernel's own view", () => {
    const machine = [fnInput("00:01.0", parts.rootPort(1)), fnInput("01:00.0", parts.endpoint()), fnInput("01:01.0", parts.endpoint())];
    expect(topo(machine, { pcieScanAll: true }).scanOrder).toContain("0000:01:01.0");
    expect(topo(machine, { kernelView: true }).scanOrder).toContain("0000:01:01.0");
    expect(topo(machine).scanOrder).not.toContain("0000:01:01.0");
  });

  it("predicts VFs from NumVFs when the source lacks them, and places them after the boot scan", () => {
    const t = topo([
      fnInput("00:01.0", parts.rootPort(1, 2)),
      fnInput("01:00.0", { pcieType: 0, sriov: { totalVFs: 4, numVFs: 3, offset: 0x80, stride: 0x80, vfDevice: 0x154c } }),
    ]);
    const vfs = [...t.functions.values()].filter((f) => f.isVirtfn);
    expect(vfs.map((f) => f.bdf)).toEqual(["0000:01:10.0", "0000:02:00.0", "0000:02:10.0"]);
    expect(vfs.every((f) => f.predicted && !f.multifunction && f.device === 0x154c && f.physfn === "0000:01:00.0")).toBe(true);
    expect(t.buses.get("0000:02")).toMatchObject({ virtual: true, parent: "0000:01", self: undefined });
    expect(t.scanOrder.slice(-3)).toEqual(["0000:01:10.0", "0000:02:00.0", "0000:02:10.0"]);
  });

  it("marks present VFs as VFs of their PF", () => {
    const t = topo([
      fnInput("01:00.0", { pcieType: 0, sriov: { totalVFs: 2, numVFs: 1, offset: 1, stride: 1, vfDevice: 0x10ed } }),
      fnInput("01:00.1", { pcieType: 0, vendor: 0xffff, device: 0xffff }, { ids: { vendor: 0x8086, device: 0x10ed } }),
    ]);
    expect(t.functions.get("0000:01:00.1")).toMatchObject({ isVirtfn: true, physfn: "0000:01:00.0", predicted: false, vendor: 0x8086, multifunction: false });
  });
});

describe("SR-IOV without VF Enable", () => {
  it("neither predicts VFs nor takes a present function for one", () => {
    const t = topo([
      fnInput("01:00.0", { pcieType: 0, multifunction: true, sriov: { totalVFs: 4, numVFs: 2, offset: 1, stride: 1, vfDevice: 0x10ed, enabled: false } }),
      fnInput("01:00.1", { pcieType: 0 }),
    ]);
    expect([...t.functions.keys()]).toEqual(["0000:01:00.0", "0000:01:00.1"]);
    expect(t.functions.get("0000:01:00.1")?.isVirtfn).toBe(false);
  });
});
