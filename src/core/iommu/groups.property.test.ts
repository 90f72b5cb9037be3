import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SyntheticFunction } from "../design/synth-config.js";
import { ariMachine, switchedMachine } from "../testing/large-shapes.js";
import { referenceGroups } from "../testing/reference-groups.js";
import { fnInput, snapshotOf } from "../testing/topology-builder.js";
import { buildTopology } from "../topology/build.js";
import type { FunctionInput } from "../topology/build.js";
import { formatBdf, devfnOf } from "../topology/address.js";
import { predict } from "./predict.js";

/** a random PCI subtree, described before bus numbers are assigned */
type Node =
  | { kind: "endpoint"; fns: { acs: boolean; quirk: number }[]; pcie: boolean }
  | { kind: "root-port" | "downstream"; acs: boolean; child: Node | undefined }
  | { kind: "switch"; ports: { acs: boolean; child: Node | undefined }[] }
  | { kind: "pcie-to-pci" | "pci-bridge"; children: Node[] };

// IDs that fire real alias quirks: Marvell func1, Ricoh func0, PLX all-256, ASMedia bridge alias
const QUIRK_IDS: [number, number][] = [
  [0x1234, 0x0001],
  [0x1b4b, 0x9230],
  [0x1180, 0xe832],
  [0x10b5, 0x87b0],
];

const fnsArb = fc.array(fc.record({ acs: fc.boolean(), quirk: fc.nat(QUIRK_IDS.length - 1) }), { minLength: 1, maxLength: 4 });
const { node } = fc.letrec<{ node: Node; leaf: Node }>((tie) => ({
  leaf: fc.record({ kind: fc.constant("endpoint" as const), fns: fnsArb, pcie: fc.boolean() }),
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    tie("leaf"),
    fc.record({ kind: fc.constant("switch" as const), ports: fc.array(fc.record({ acs: fc.boolean(), child: fc.option(tie("node"), { nil: undefined }) }), { minLength: 1, maxLength: 3 }) }),
    fc.record({ kind: fc.constantFrom("pcie-to-pci" as const, "pci-bridge" as const), children: fc.array(tie("leaf"), { minLength: 1, maxLength: 3 }) }),
  ),
}));
const rootArb = fc.array(fc.oneof(fc.record({ kind: fc.constant("root-port" as const), acs: fc.boolean(), child: fc.option(node, { nil: undefined }) }), node), { minLength: 1, maxLength: 6 });

/** lays a random forest out on buses the way firmware would number them */
function layout(roots: Node[]): FunctionInput[] {
  const inputs: FunctionInput[] = [fnInput("00:00.0", { classCode: 0x060000 })];
  let nextBus = 1;
  const place = (n: Node, bus: number, slot: number, below: "port" | "bus" | "pci"): void => {
    const at = (fn: number) => formatBdf(0, bus, devfnOf(slot, fn));
    const bridge = (f: SyntheticFunction, fnNo: number, fill: (sec: number) => void): void => {
      const sec = nextBus++;
      const idx = inputs.length;
      inputs.push(fnInput(at(fnNo), { ...f, headerType: 1, bus: { primary: bus, secondary: sec, subordinate: sec } }));
      fill(sec);
      const sub = nextBus - 1;
      inputs[idx] = fnInput(at(fnNo), { ...f, headerType: 1, bus: { primary: bus, secondary: sec, subordinate: sub } });
    };
    const pcie = below !== "pci";
    switch (n.kind) {
      case "endpoint":
        n.fns.forEach((f, i) => {
          const [vendor, device] = QUIRK_IDS[f.quirk]!;
          inputs.push(
            fnInput(at(i), {
              vendor,
              device,
              multifunction: i === 0 && n.fns.length > 1,
              ...(pcie && n.pcie ? { pcieType: 0, ...(f.acs ? { acs: { cap: 0x1d, ctrl: 0x1d } } : {}) } : {}),
            }),
          );
        });
        break;
      case "root-port":
      case "downstream":
        bridge({ pcieType: n.kind === "root-port" ? 4 : 6, ...(n.acs ? { acs: { cap: 0x5f, ctrl: 0x1d } } : {}) }, 0, (sec) => n.child && place(n.child, sec, 0, "port"));
        break;
      case "switch":
        bridge({ pcieType: 5 }, 0, (sec) => n.ports.forEach((p, i) => place({ kind: "downstream", acs: p.acs, child: p.child }, sec, i, "bus")));
        break;
      case "pcie-to-pci":
      case "pci-bridge": {
        const [vendor, device] = n.kind === "pci-bridge" ? QUIRK_IDS[0]! : [0x1b36, 0x000e];
        const f: SyntheticFunction = n.kind === "pcie-to-pci" && pcie ? { pcieType: 7 } : { vendor, device };
        bridge(f, 0, (sec) => n.children.forEach((c, i) => place(c, sec, i + 1, "pci")));
        break;
      }
    }
  };
  roots.forEach((r, i) => nextBus < 200 && place(r, 0, i + 1, "bus"));
  return inputs;
}

describe("group engine vs the literal kernel algorithm", () => {
  it("gives the same groups and numbers on random topologies", () => {
    fc.assert(
      fc.property(rootArb, fc.boolean(), (roots, override) => {
        const snap = snapshotOf(layout(roots), override ? { cmdline: "pcie_acs_override=downstream,multifunction" } : {});
        const p = predict(snap);
        const ref = referenceGroups(p.topology, p.props, p.acs, p.layout.passes, new Set(p.layout.ungrouped.keys()));
        expect(Object.fromEntries(p.groups.groupOf)).toEqual(Object.fromEntries(ref));
      }),
      { numRuns: 400, seed: 0x13a5 },
    );
  });

  it("gives the same groups and numbers on large machines: whole buses of ARI functions, switches with SR-IOV VFs", () => {
    const pattern = fc.array(fc.record({ port: fc.boolean(), functions: fc.constantFrom("on" as const, "partial" as const, "none" as const) }), { minLength: 1, maxLength: 5 });
    const shape = fc.oneof(
      fc.record({ kind: fc.constant("ari" as const), rootPorts: fc.integer({ min: 1, max: 40 }), functions: fc.integer({ min: 1, max: 256 }), pattern }),
      fc.record({ kind: fc.constant("switched" as const), rootPorts: fc.integer({ min: 1, max: 40 }), dsps: fc.integer({ min: 1, max: 12 }) }),
    );
    fc.assert(
      fc.property(shape, fc.boolean(), (s, override) => {
        const inputs = s.kind === "ari" ? ariMachine({ rootPorts: s.rootPorts, functions: s.functions, pattern: s.pattern }) : switchedMachine(s.rootPorts, s.dsps);
        const snap = { ...snapshotOf([], override ? { cmdline: "pcie_acs_override=downstream,multifunction" } : {}), topology: buildTopology(inputs, { kernelView: true }) };
        const p = predict(snap);
        const ref = referenceGroups(p.topology, p.props, p.acs, p.layout.passes, new Set(p.layout.ungrouped.keys()));
        expect(p.groups.groupOf.size).toBeGreaterThan(0);
        expect(Object.fromEntries(p.groups.groupOf)).toEqual(Object.fromEntries(ref));
      }),
      { numRuns: 12, seed: 0x13a6 },
    );
  });

  it("the reference itself is not trivially equal: a merged topology differs from a split one", () => {
    const roots: Node[] = [{ kind: "root-port", acs: false, child: { kind: "endpoint", pcie: true, fns: [{ acs: false, quirk: 0 }] } }];
    const p = predict(snapshotOf(layout(roots)));
    const ref = referenceGroups(p.topology, p.props, p.acs, p.layout.passes);
    expect(ref.get("0000:01:00.0")).toBe(ref.get("0000:00:01.0"));
    expect(new Set(ref.values()).size).toBe(2);
  });
});
