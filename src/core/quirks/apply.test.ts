import { describe, expect, it } from "vitest";
import { devfnOf } from "../topology/address.js";
import { applyAliasQuirks } from "./apply.js";
import { makeFn, makeTopology } from "./test-fixtures.js";

const RP = { isPcie: true, pcieType: 0x4, headerType: 1 } as const;

describe("TV8 ASMedia ASM1083 hiding its PCIe capability", () => {
  const scene = (upstream: Partial<Parameters<typeof makeFn>[0]> = {}) => [
    makeFn({ ...RP, vendor: 0x8086, device: 0x8c16, bus: 0, devfn: devfnOf(0x1c, 3), secondary: 3, subordinate: 4, ...upstream }),
    makeFn({ vendor: 0x1b21, device: 0x1080, bus: 3, devfn: 0, headerType: 1, secondary: 4, subordinate: 4 }),
    makeFn({ vendor: 0x1234, device: 0x5678, bus: 4, devfn: devfnOf(5, 0) }),
  ];

  it("sets pcie-bridge-alias below a PCIe root port", () => {
    const fx = applyAliasQuirks(makeTopology(scene()));
    expect(fx.get("0000:03:00.0")).toEqual({
      aliasDevfns: [],
      aliasCauses: new Map(),
      pcieBridgeAlias: true,
      xlateRoot: false,
      switchtecNt: false,
      fired: [{ id: "pcie-bridge-alias/asmedia-asm1083", effect: "flag pcie-bridge-alias" }],
    });
    expect([...fx.keys()]).toEqual(["0000:03:00.0"]);
  });

  it("does not set it when the upstream bridge is a PCIe-to-PCI bridge (type 7)", () => {
    const fx = applyAliasQuirks(makeTopology(scene({ pcieType: 0x7 })));
    expect(fx.size).toBe(0);
  });

  it("does not set it when the upstream bridge is conventional", () => {
    expect(applyAliasQuirks(makeTopology(scene({ isPcie: false, pcieType: 0 }))).size).toBe(0);
  });

  it("does not set it on a root bus, for a PCIe function or a non-bridge header", () => {
    const onRoot = makeFn({ vendor: 0x1b21, device: 0x1080, bus: 0, devfn: 0x10, headerType: 1, secondary: 4 });
    expect(applyAliasQuirks(makeTopology([onRoot])).size).toBe(0);
    const [rp, br] = scene();
    expect(applyAliasQuirks(makeTopology([rp!, { ...br!, isPcie: true, pcieType: 0x7 }])).size).toBe(0);
    expect(applyAliasQuirks(makeTopology([rp!, { ...br!, headerType: 0 }])).size).toBe(0);
  });
});

describe("TV9 Marvell SATA with ghost function 1", () => {
  it("aliases 05:00.0 to devfn 01", () => {
    const fx = applyAliasQuirks(makeTopology([makeFn({ vendor: 0x1b4b, device: 0x9230, bus: 5 })]));
    expect(fx.get("0000:05:00.0")?.aliasDevfns).toEqual([0x01]);
    expect(fx.get("0000:05:00.0")?.fired).toEqual([{ id: "dma-func1-alias/marvell", effect: "alias 00.1" }]);
  });

  it("variant 9123 with a real IDE function: only function 0 carries the alias", () => {
    const fx = applyAliasQuirks(
      makeTopology([
        makeFn({ vendor: 0x1b4b, device: 0x9123, bus: 5, multifunction: true }),
        makeFn({ vendor: 0x1b4b, device: 0x91a4, bus: 5, devfn: 1, multifunction: true }),
      ]),
    );
    expect(fx.get("0000:05:00.0")?.aliasDevfns).toEqual([0x01]);
    expect(fx.has("0000:05:00.1")).toBe(false);
  });

  it("function 1 of a quirked id aliases nothing", () => {
    const fx = applyAliasQuirks(makeTopology([makeFn({ vendor: 0x1b4b, device: 0x9230, bus: 5, devfn: 1 })]));
    expect(fx.size).toBe(0);
  });
});

describe("TV10 Ricoh card reader", () => {
  it("aliases 07:00.3 to function 0 and leaves the unquirked function 0 alone", () => {
    const fx = applyAliasQuirks(
      makeTopology([
        makeFn({ vendor: 0x1180, device: 0xe822, bus: 7, multifunction: true }),
        makeFn({ vendor: 0x1180, device: 0xe832, bus: 7, devfn: 3, multifunction: true }),
      ]),
    );
    expect([...fx.keys()]).toEqual(["0000:07:00.3"]);
    expect(fx.get("0000:07:00.3")?.aliasDevfns).toEqual([0x00]);
  });

  it("a quirked id at function 0 aliases nothing", () => {
    expect(applyAliasQuirks(makeTopology([makeFn({ vendor: 0x1180, device: 0xe832, bus: 7 })])).size).toBe(0);
  });
});

describe("TV15 PLX NTB", () => {
  it("aliases all 256 devfns, the own one included", () => {
    const fx = applyAliasQuirks(
      makeTopology([
        makeFn({ vendor: 0x10b5, device: 0x8725, bus: 6, multifunction: true }),
        makeFn({ vendor: 0x10b5, device: 0x87b0, bus: 6, devfn: 1, multifunction: true }),
      ]),
    );
    const nt = fx.get("0000:06:00.1");
    expect(nt?.aliasDevfns).toHaveLength(256);
    expect(nt?.aliasDevfns[0]).toBe(0x00);
    expect(nt?.aliasDevfns[255]).toBe(0xff);
    expect(nt?.aliasDevfns).toContain(0x01);
    expect(fx.has("0000:06:00.0")).toBe(false);
  });
});

describe("fixed and accelerator aliases", () => {
  it("Adaptec 3405 aliases 01.0 only with its subsystem", () => {
    const adaptec = { vendor: 0x9005, device: 0x0285, bus: 2, devfn: devfnOf(0x0e, 0) };
    const fx = applyAliasQuirks(makeTopology([makeFn({ ...adaptec, subsystemVendor: 0x9005, subsystemDevice: 0x02bb })]));
    expect(fx.get("0000:02:0e.0")?.aliasDevfns).toEqual([0x08]);
    const other = applyAliasQuirks(makeTopology([makeFn({ ...adaptec, subsystemVendor: 0x9005, subsystemDevice: 0x0290 })]));
    expect(other.size).toBe(0);
  });

  it("Xeon Phi x200 aliases 10.0, 11.0 and 12.3", () => {
    const fx = applyAliasQuirks(makeTopology([makeFn({ vendor: 0x8086, device: 0x2264, bus: 9 })]));
    expect(fx.get("0000:09:00.0")?.aliasDevfns).toEqual([0x80, 0x88, 0x93]);
    expect(fx.get("0000:09:00.0")?.fired[0]?.effect).toBe("alias 10.0, 11.0, 12.3");
  });

  it("VCA aliases functions 0-4 of every slot (160 devfns)", () => {
    const fx = applyAliasQuirks(makeTopology([makeFn({ vendor: 0x8086, device: 0x2958, bus: 9 })]));
    const devfns = fx.get("0000:09:00.0")?.aliasDevfns ?? [];
    expect(devfns).toHaveLength(160);
    expect(devfns.slice(0, 6)).toEqual([0x00, 0x01, 0x02, 0x03, 0x04, 0x08]);
    expect(devfns).not.toContain(0x05);
    expect(devfns.at(-1)).toBe(devfnOf(31, 4));
  });

  it("ThunderX2 sets xlate-root", () => {
    const fx = applyAliasQuirks(makeTopology([makeFn({ ...RP, vendor: 0x14e4, device: 0x9084 })]));
    expect(fx.get("0000:00:00.0")).toMatchObject({ xlateRoot: true, aliasDevfns: [] });
  });

  it("functions the scan does not find get no fixups", () => {
    const fx = applyAliasQuirks(makeTopology([makeFn({ vendor: 0x1b4b, device: 0x9230, bus: 5, scanned: false })]));
    expect(fx.size).toBe(0);
  });

  it("a custom table replaces the built-in one; a range is clamped at devfn 0xff", () => {
    const fx = applyAliasQuirks(makeTopology([makeFn({ vendor: 0x1234, device: 1 })]), {
      rows: [
        {
          id: "test/range",
          match: { vendor: 0x1234, device: "any" },
          pass: "header",
          effect: { kind: "alias-range", from: 0xfe, count: 8 },
          reason: "test",
          ref: "test",
        },
      ],
    });
    expect(fx.get("0000:00:00.0")?.aliasDevfns).toEqual([0xfe, 0xff]);
  });

  it("credits every alias devfn to the row that added it first", () => {
    const row = (id: string, devfns: number[]) => ({
      id,
      match: { vendor: 0x1234, device: "any" as const },
      pass: "header" as const,
      effect: { kind: "alias-devfn" as const, devfns },
      reason: "test",
      ref: "test",
    });
    const fx = applyAliasQuirks(makeTopology([makeFn({ vendor: 0x1234, device: 1 })]), { rows: [row("test/a", [0x08]), row("test/b", [0x08, 0x10])] });
    expect([...fx.get("0000:00:00.0")!.aliasCauses]).toEqual([
      [0x08, "test/a"],
      [0x10, "test/b"],
    ]);
  });
});

describe("Switchtec NT functions", () => {
  const nt = (p: Partial<Parameters<typeof makeFn>[0]>) =>
    makeTopology([makeFn({ vendor: 0x11f8, device: 0x8536, classCode: 0x068000, bus: 3, devfn: 1, ...p })]);

  it("marks the NT function (class 0x0680xx) and records the row", () => {
    const fx = applyAliasQuirks(nt({})).get("0000:03:00.1");
    expect(fx).toEqual({
      aliasDevfns: [],
      aliasCauses: new Map(),
      pcieBridgeAlias: false,
      xlateRoot: false,
      switchtecNt: true,
      fired: [
        { id: "switchtec-ntb-dma-alias/gen3", effect: "switchtec NT function: proxy aliases need the BAR0 register image" },
      ],
    });
  });

  it("ignores the management endpoint and ports on current kernels", () => {
    expect(applyAliasQuirks(nt({ classCode: 0x058000 })).size).toBe(0);
    expect(applyAliasQuirks(nt({ classCode: 0x060400, headerType: 1 })).size).toBe(0);
  });

  it("before ≈5.1 every Switchtec function was matched", () => {
    const fx = applyAliasQuirks(nt({ classCode: 0x058000 }), { kernel: { major: 4, minor: 19 } });
    expect(fx.get("0000:03:00.1")?.fired.map((f) => f.id)).toEqual(["switchtec-ntb-dma-alias/gen3-any-class"]);
    expect(applyAliasQuirks(nt({ classCode: 0x058000 }), { kernel: { major: 5, minor: 1 } }).size).toBe(0);
  });

  it("Gen5 and PCI100x ids are matched", () => {
    expect(applyAliasQuirks(nt({ device: 0x5528 })).get("0000:03:00.1")?.switchtecNt).toBe(true);
    expect(applyAliasQuirks(nt({ vendor: 0x1055, device: 0x1004 })).get("0000:03:00.1")?.switchtecNt).toBe(true);
  });
});

describe("kernel ranges gate rows", () => {
  const plx = makeTopology([makeFn({ vendor: 0x10b5, device: 0x87b1, bus: 6 })]);
  const pci100x = makeTopology([makeFn({ vendor: 0x1055, device: 0x1001, classCode: 0x068000 })]);
  const pci1008 = makeTopology([makeFn({ vendor: 0x1055, device: 0x1008, classCode: 0x068000 })]);
  const tx2 = makeTopology([makeFn({ ...RP, vendor: 0x14e4, device: 0x9000 })]);

  it("PLX NTB from ≈5.5", () => {
    expect(applyAliasQuirks(plx, { kernel: { major: 5, minor: 4 } }).size).toBe(0);
    expect(applyAliasQuirks(plx, { kernel: { major: 5, minor: 5 } }).size).toBe(1);
    expect(applyAliasQuirks(plx).size).toBe(1);
  });

  it("PCI100x from ≈6.14", () => {
    expect(applyAliasQuirks(pci100x, { kernel: { major: 6, minor: 13 } }).size).toBe(0);
    expect(applyAliasQuirks(pci100x, { kernel: { major: 6, minor: 14 } }).size).toBe(1);
  });

  it("ThunderX2 xlate-root from ≈4.13", () => {
    expect(applyAliasQuirks(tx2, { kernel: { major: 4, minor: 12 } }).size).toBe(0);
    expect(applyAliasQuirks(tx2, { kernel: { major: 4, minor: 13 } }).size).toBe(1);
  });

  it("the proposed PCI1008 id fires only when proposals are included", () => {
    expect(applyAliasQuirks(pci1008).size).toBe(0);
    expect(applyAliasQuirks(pci1008, { kernel: { major: 7, minor: 0 } }).size).toBe(0);
    expect(applyAliasQuirks(pci1008, { includeProposed: true }).get("0000:00:00.0")?.switchtecNt).toBe(true);
  });
});
