/**
 * The kernel-spec §10 test vectors: aliases and groups for small machines
 * whose answers were worked out from the kernel's algorithm by hand.
 */
import { describe, expect, it } from "vitest";
import { fnInput, parts, snapshotOf } from "../testing/topology-builder.js";
import { formatRid } from "../topology/address.js";
import { dmaAliases } from "./dma-alias.js";
import { predict } from "./predict.js";
import type { Prediction } from "./predict.js";

const ACS_OK = { cap: 0x5f, ctrl: 0x1d };

function groupsOf(p: Prediction): string[][] {
  return p.groups.groups.map((g) => [...g.members].map((b) => b.slice(5)).sort());
}

function aliasesOf(p: Prediction, bdf: string): string[] {
  return dmaAliases(p.topology, p.props, p.topology.functions.get(bdf)!).map((a) => formatRid(a.rid));
}

describe("kernel-spec §10 vectors", () => {
  const tv1 = (rootAcs: boolean) => [
    fnInput("00:00.0", parts.hostBridge()),
    fnInput("00:01.0", parts.rootPort(1, 1, rootAcs)),
    fnInput("01:00.0", { pcieType: 0, multifunction: true, classCode: 0x030000 }),
    fnInput("01:00.1", { pcieType: 0, classCode: 0x040300 }),
  ];

  it("TV1: GPU with audio behind an isolated root port", () => {
    const p = predict(snapshotOf(tv1(true)));
    expect(groupsOf(p)).toEqual([["00:00.0"], ["00:01.0"], ["01:00.0", "01:00.1"]]);
    expect(aliasesOf(p, "0000:01:00.1")).toEqual(["01:00.1"]);
  });

  it("TV2: root port without ACS pulls the GPU into its group", () => {
    expect(groupsOf(predict(snapshotOf(tv1(false))))).toEqual([["00:00.0"], ["00:01.0", "01:00.0", "01:00.1"]]);
  });

  const tv3 = (dspAcs: boolean, rootAcs = true) => [
    fnInput("00:1c.0", parts.rootPort(1, 4, rootAcs)),
    fnInput("01:00.0", parts.upstream(1, 2, 4)),
    fnInput("02:00.0", parts.downstream(2, 3, dspAcs)),
    fnInput("02:01.0", parts.downstream(2, 4, dspAcs)),
    fnInput("03:00.0", parts.endpoint()),
    fnInput("04:00.0", parts.endpoint()),
  ];

  it("TV3: switch downstream ports without ACS keep separate groups (known kernel gap)", () => {
    expect(groupsOf(predict(snapshotOf(tv3(false))))).toEqual([["00:1c.0"], ["01:00.0"], ["02:00.0", "03:00.0"], ["02:01.0", "04:00.0"]]);
  });

  it("TV4: pcie_acs_override=downstream splits everything", () => {
    const p = predict(snapshotOf(tv3(false), { cmdline: "pcie_acs_override=downstream" }));
    expect(groupsOf(p)).toEqual([["00:1c.0"], ["01:00.0"], ["02:00.0"], ["02:01.0"], ["03:00.0"], ["04:00.0"]]);
  });

  it("TV5: a root port without ACS above an ACS switch takes everything", () => {
    const p = predict(snapshotOf(tv3(true, false)));
    expect(groupsOf(p)).toEqual([["00:1c.0", "01:00.0", "02:00.0", "02:01.0", "03:00.0", "04:00.0"]]);
  });

  it("TV6: conventional PCI behind a PCIe-to-PCI bridge", () => {
    const p = predict(
      snapshotOf([
        fnInput("00:1e.0", parts.rootPort(1, 2)),
        fnInput("01:00.0", parts.pcieToPci(1, 2)),
        fnInput("02:01.0", parts.conventional()),
        fnInput("02:02.0", parts.conventional()),
      ]),
    );
    expect(aliasesOf(p, "0000:02:01.0")).toEqual(["02:01.0", "02:00.0"]);
    expect(aliasesOf(p, "0000:02:02.0")).toEqual(["02:02.0", "02:00.0"]);
    expect(groupsOf(p)).toEqual([["00:1e.0"], ["01:00.0", "02:01.0", "02:02.0"]]);
  });

  it("TV7: a chain of conventional bridges adds one alias each", () => {
    const p = predict(
      snapshotOf([
        fnInput("00:1c.0", parts.rootPort(1, 3)),
        fnInput("01:00.0", { ...parts.pcieToPci(1, 2), bus: { primary: 1, secondary: 2, subordinate: 3 } }),
        fnInput("02:03.0", parts.pciBridge(2, 3)),
        fnInput("03:04.0", parts.conventional()),
      ]),
    );
    expect(aliasesOf(p, "0000:03:04.0")).toEqual(["03:04.0", "02:03.0", "02:00.0"]);
    expect(groupsOf(p)).toEqual([["00:1c.0"], ["01:00.0", "02:03.0", "03:04.0"]]);
  });

  it("TV8: ASMedia ASM1083 hiding its PCIe capability aliases to (secondary, 00.0)", () => {
    // 1c.3 is only scanned because function 0 of its slot exists and is multifunction
    const machine = (vendor: number) => [
      fnInput("00:1c.0", parts.rootPort(1, 1, true, true)),
      fnInput("00:1c.3", parts.rootPort(3, 4)),
      fnInput("03:00.0", parts.pciBridge(3, 4, vendor, 0x1080)),
      fnInput("04:05.0", parts.conventional()),
    ];
    const p = predict(snapshotOf(machine(0x1b21)));
    expect(aliasesOf(p, "0000:04:05.0")).toEqual(["04:05.0", "04:00.0"]);
    expect(groupsOf(p)).toEqual([["00:1c.0"], ["00:1c.3"], ["03:00.0", "04:05.0"]]);
    expect(aliasesOf(predict(snapshotOf(machine(0x1234))), "0000:04:05.0")).toEqual(["04:05.0", "03:00.0"]);
  });

  it("TV9: Marvell SATA with a ghost function 1", () => {
    const p = predict(snapshotOf([fnInput("00:1c.0", parts.rootPort(5)), fnInput("05:00.0", { pcieType: 0, vendor: 0x1b4b, device: 0x9230 })]));
    expect(aliasesOf(p, "0000:05:00.0")).toEqual(["05:00.0", "05:00.1"]);
    expect(groupsOf(p)).toEqual([["00:1c.0"], ["05:00.0"]]);
  });

  it("TV10: Ricoh card reader function 3 aliases function 0 although both have ACS", () => {
    const acs = { cap: 0x0c, ctrl: 0x0c };
    const p = predict(
      snapshotOf([
        fnInput("00:1c.0", parts.rootPort(7)),
        fnInput("07:00.0", { pcieType: 0, multifunction: true, vendor: 0x1180, device: 0x0001, acs }),
        fnInput("07:00.3", { pcieType: 0, multifunction: true, vendor: 0x1180, device: 0xe832, acs }),
      ]),
    );
    expect(groupsOf(p)).toEqual([["00:1c.0"], ["07:00.0", "07:00.3"]]);
    const step = p.groups.steps.get("0000:07:00.3")!.at(-1)!;
    expect(step.code).toBe("alias-group");
  });

  it("TV11: Intel PCH root ports need the ACS workaround; 6.11 lost it", () => {
    const machine = [
      fnInput("00:1c.0", { ...parts.rootPort(2, 2, false), vendor: 0x8086, device: 0x8c10, multifunction: true }),
      fnInput("00:1c.2", { ...parts.rootPort(3, 3, false), vendor: 0x8086, device: 0x8c14 }),
      fnInput("02:00.0", parts.endpoint()),
      fnInput("03:00.0", parts.endpoint()),
    ];
    expect(groupsOf(predict(snapshotOf(machine)))).toEqual([["00:1c.0"], ["00:1c.2"], ["02:00.0"], ["03:00.0"]]);
    expect(groupsOf(predict(snapshotOf(machine, { osrelease: "6.11.0" })))).toEqual([["00:1c.0", "00:1c.2", "02:00.0", "03:00.0"]]);
  });

  it("TV12: I350 functions are isolated by the vendor quirk; an unlisted NIC is one group", () => {
    const nic = (device: number) => [
      fnInput("00:1c.0", parts.rootPort(4)),
      ...[0, 1, 2, 3].map((fn) => fnInput(`04:00.${fn}`, { pcieType: 0, multifunction: true, vendor: 0x8086, device })),
    ];
    expect(groupsOf(predict(snapshotOf(nic(0x1521))))).toHaveLength(5);
    expect(groupsOf(predict(snapshotOf(nic(0x1234))))).toEqual([["00:1c.0"], ["04:00.0", "04:00.1", "04:00.2", "04:00.3"]]);
  });

  it("TV13: a mixed-ACS multifunction device keeps the ACS function apart (known kernel gap)", () => {
    const p = predict(
      snapshotOf([
        fnInput("00:1c.0", parts.rootPort(5)),
        fnInput("05:00.0", { pcieType: 0, multifunction: true }),
        fnInput("05:00.1", { pcieType: 0 }),
        fnInput("05:00.2", { pcieType: 0, acs: { cap: 0x0c, ctrl: 0x0c } }),
      ]),
    );
    expect(groupsOf(p)).toEqual([["00:1c.0"], ["05:00.0", "05:00.1"], ["05:00.2"]]);
  });

  it("TV14: SR-IOV VFs get a group each, after every boot-time group", () => {
    const p = predict(
      snapshotOf([
        fnInput("00:00.0", parts.hostBridge()),
        fnInput("00:1c.0", parts.rootPort(0x81)),
        fnInput("81:00.0", { pcieType: 0, sriov: { totalVFs: 8, numVFs: 3, offset: 1, stride: 1, vfDevice: 0x10ed } }),
      ]),
    );
    expect(groupsOf(p)).toEqual([["00:00.0"], ["00:1c.0"], ["81:00.0"], ["81:00.1"], ["81:00.2"], ["81:00.3"]]);
  });

  it("TV15: PLX NTB aliases all 256 devfns, own RID twice, pulling in its sibling", () => {
    const p = predict(
      snapshotOf([
        fnInput("00:1c.0", parts.rootPort(6)),
        fnInput("06:00.0", { pcieType: 0, multifunction: true, acs: ACS_OK }),
        fnInput("06:00.1", { pcieType: 0, vendor: 0x10b5, device: 0x87b0, acs: ACS_OK }),
      ]),
    );
    const aliases = aliasesOf(p, "0000:06:00.1");
    expect(aliases).toHaveLength(257);
    expect(aliases.slice(0, 3)).toEqual(["06:00.1", "06:00.0", "06:00.1"]);
    expect(groupsOf(p)).toEqual([["00:1c.0"], ["06:00.0", "06:00.1"]]);
  });

  it("TV18: disable_acs_redir on an isolated root port merges everything below it", () => {
    const machine = [fnInput("00:01.0", { ...parts.rootPort(1), acs: { cap: 0x3d, ctrl: 0 } }), fnInput("01:00.0", parts.endpoint())];
    const opts = { acsMode: "boot" as const };
    expect(groupsOf(predict(snapshotOf(machine), opts))).toEqual([["00:01.0"], ["01:00.0"]]);
    expect(groupsOf(predict(snapshotOf(machine, { cmdline: "pci=disable_acs_redir=0000:00:01.0" }), opts))).toEqual([["00:01.0", "01:00.0"]]);
  });

  it("TV19: config_acs turns the redirect bits back on (6.11+ only)", () => {
    const machine = [fnInput("00:01.0", { ...parts.rootPort(1), acs: { cap: 0x3d, ctrl: 0 } }), fnInput("01:00.0", parts.endpoint())];
    const cmdline = "pci=disable_acs_redir=0000:00:01.0,config_acs=xx111x1@0000:00:01.0";
    expect(groupsOf(predict(snapshotOf(machine, { cmdline, osrelease: "6.15.0" }), { acsMode: "boot" }))).toEqual([["00:01.0"], ["01:00.0"]]);
    expect(groupsOf(predict(snapshotOf(machine, { cmdline, osrelease: "6.10.0" }), { acsMode: "boot" }))).toEqual([["00:01.0", "01:00.0"]]);
  });

  it("TV22-style numbering: ids are the lowest free, in probe order", () => {
    const p = predict(snapshotOf(tv3(false)));
    expect(p.groups.groups.map((g) => g.id)).toEqual([0, 1, 2, 3]);
  });
});

describe("kernel-spec TV17: devices behind an Intel VMD", () => {
  it("alias from the VMD endpoint and join its group; Intel programs no entries of their own", () => {
    const vmd = "0000:00:0e.0";
    const snap = snapshotOf([
      fnInput("00:00.0", parts.hostBridge()),
      fnInput("00:0e.0", { pcieType: 9, vendor: 0x8086, device: 0x9a0b, classCode: 0x010400 }),
      fnInput("10000:00:02.0", parts.rootPort(1), { realDmaDev: vmd }),
      fnInput("10000:00:03.0", parts.rootPort(2), { realDmaDev: vmd }),
      fnInput("10000:01:00.0", { pcieType: 0, classCode: 0x010802 }, { realDmaDev: vmd }),
      fnInput("10000:02:00.0", { pcieType: 0, classCode: 0x010802 }, { realDmaDev: vmd }),
    ]);
    const p = predict(snap);
    const nvme = p.topology.functions.get("10000:01:00.0")!;
    expect(dmaAliases(p.topology, p.props, nvme)).toEqual([{ rid: 0x0070, cause: "real-dma-dev", via: vmd }]);
    const vmdGroup = p.groups.groupOf.get(vmd);
    for (const b of ["10000:00:02.0", "10000:00:03.0", "10000:01:00.0", "10000:02:00.0"]) expect(p.groups.groupOf.get(b), b).toBe(vmdGroup);
    expect(p.groups.steps.get("10000:02:00.0")?.[0]?.code).toBe("alias-bridge-group");
  });
});
