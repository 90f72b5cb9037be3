import { describe, expect, it } from "vitest";
import { fnInput, parts, snapshotOf } from "../testing/topology-builder.js";
import { buildTopology } from "../topology/build.js";
import { functionInputsOf, withNumVfs } from "./inputs.js";
import { applySriov } from "./sriov.js";

const machine = () =>
  snapshotOf([
    fnInput("00:00.0", parts.hostBridge()),
    fnInput("00:1c.0", parts.rootPort(0x81), { driver: "pcieport", kernelGroup: 1 }),
    fnInput("81:00.0", { pcieType: 0, sriov: { totalVFs: 8, numVFs: 2, offset: 1, stride: 1, vfDevice: 0x10ed } }, { driver: "igb", kernelGroup: 2 }),
    fnInput("81:00.1", { pcieType: 0 }, { physfn: "0000:81:00.0", driver: "igbvf", kernelGroup: 3 }),
  ]);

describe("functionInputsOf", () => {
  it("rebuilds the same topology, predicted VFs included", () => {
    const t = machine().topology;
    expect(t.functions.get("0000:81:00.2")?.predicted).toBe(true);
    expect(buildTopology(functionInputsOf(t))).toEqual(t);
  });
});

describe("withNumVfs", () => {
  it("writes NumVFs and VF Enable the way sriov_numvfs leaves them", () => {
    const pf = functionInputsOf(machine().topology).find((i) => i.bus === 0x81 && i.devfn === 0)!;
    const more = withNumVfs(pf, 5)!;
    expect(more.config?.sriov).toMatchObject({ numVFs: 5, vfEnable: true, totalVFs: 8 });
    expect(withNumVfs(pf, 0)!.config?.sriov).toMatchObject({ numVFs: 0, vfEnable: false });
    // the source's bytes stay as they were
    expect(pf.config?.sriov?.numVFs).toBe(2);
    expect(withNumVfs(functionInputsOf(machine().topology)[0]!, 1)).toBeUndefined();
  });
});

describe("applySriov", () => {
  it("keeps the VFs the source showed while the new count still creates them", () => {
    const s = machine();
    const r = applySriov(s, [{ pf: "0000:81:00.0", numVfs: 4, line: 1, path: "sriov" }], "m");
    if (!r.ok) throw new Error("unexpected problems");
    const fns = r.snapshot.topology.functions;
    expect([...fns.keys()].filter((b) => b.startsWith("0000:81"))).toEqual(["0000:81:00.0", "0000:81:00.1", "0000:81:00.2", "0000:81:00.3", "0000:81:00.4"]);
    expect(fns.get("0000:81:00.1")).toMatchObject({ predicted: false, driver: "igbvf", kernelGroup: 3 });
    expect(fns.get("0000:81:00.4")).toMatchObject({ predicted: true, isVirtfn: true });
    const fewer = applySriov(s, [{ pf: "0000:81:00.0", numVfs: 0, line: 1, path: "sriov" }], "m");
    if (!fewer.ok) throw new Error("unexpected problems");
    expect([...fewer.snapshot.topology.functions.keys()].filter((b) => b.startsWith("0000:81"))).toEqual(["0000:81:00.0"]);
  });
});
