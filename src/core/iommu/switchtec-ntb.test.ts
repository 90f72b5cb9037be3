/**
 * The Switchtec proxy-ID quirk inside a prediction: TV16 and the group
 * effect of a proxy devfn that lands on an existing function.
 */
import { describe, expect, it } from "vitest";
import type { Snapshot } from "../sources/snapshot.js";
import type { GasImage } from "../switchtec/gas-image.js";
import { ntbImage, tv16Image } from "../switchtec/test-images.js";
import { fnInput, parts, snapshotOf } from "../testing/topology-builder.js";
import { formatRid } from "../topology/address.js";
import { dmaAliases } from "./dma-alias.js";
import { predict } from "./predict.js";
import type { Prediction } from "./predict.js";

const ACS_OK = { cap: 0x5f, ctrl: 0x1d };
const NT = "0000:03:00.1";
const MEP = "0000:03:00.0";

/** root port → bus 3: Switchtec management endpoint 03:00.0 and NT endpoint 03:00.1, both with ACS */
function machine(image?: GasImage): Snapshot {
  const base = snapshotOf([
    fnInput("00:00.0", parts.hostBridge()),
    fnInput("00:01.0", parts.rootPort(3)),
    fnInput("03:00.0", { vendor: 0x11f8, device: 0x8536, classCode: 0x058000, pcieType: 0, multifunction: true, acs: ACS_OK }),
    fnInput("03:00.1", { vendor: 0x11f8, device: 0x8536, classCode: 0x068000, pcieType: 0, multifunction: true, acs: ACS_OK }),
  ]);
  return image ? { ...base, ntb: new Map([[NT, image]]) } : base;
}

function groupsOf(p: Prediction): string[][] {
  return p.groups.groups.map((g) => [...g.members].map((b) => b.slice(5)).sort());
}

describe("Switchtec NT function in a prediction", () => {
  it("TV16: mask {0x80, 0x81, 0x88} from the register image; groups unchanged", () => {
    const p = predict(machine(tv16Image()));
    expect(p.ntb.get(NT)).toMatchObject({ status: "from-registers", rowId: "switchtec-ntb-dma-alias/gen3" });
    expect(p.props(NT).aliasDevfns).toEqual([0x80, 0x81, 0x88]);
    expect(dmaAliases(p.topology, p.props, p.topology.functions.get(NT)!).map((a) => formatRid(a.rid))).toEqual(["03:00.1", "03:10.0", "03:10.1", "03:11.0"]);
    expect(groupsOf(p)).toEqual(groupsOf(predict(machine())));
    expect(groupsOf(p)).toEqual([["00:00.0"], ["00:01.0"], ["03:00.0"], ["03:00.1"]]);
  });

  it("an unprogrammed table entry aliases 00.0: the NT function joins the management endpoint's group", () => {
    const image = ntbImage({ own: 0, mapLo: 0b11, partitions: { 1: { size: 2, entries: [0x00000101, 0x00000000] } } });
    const p = predict(machine(image));
    expect(p.props(NT).aliasDevfns).toEqual([0x00, 0x80]);
    expect(groupsOf(p)).toEqual([["00:00.0"], ["00:01.0"], ["03:00.0", "03:00.1"]]);
    const step = p.groups.steps.get(NT)?.at(-1);
    expect(step).toMatchObject({ code: "alias-group", partner: MEP });
  });

  it("hot-added: the proxy aliases are still listed (programmed) but do not merge groups", () => {
    const image = ntbImage({ own: 0, mapLo: 0b11, partitions: { 1: { size: 1, entries: [0x00000000] } } });
    const p = predict(machine(image), { hotplug: true });
    expect(p.props(NT).aliasDevfns).toEqual([0x00]);
    expect(groupsOf(p)).toEqual([["00:00.0"], ["00:01.0"], ["03:00.0"], ["03:00.1"]]);
    expect(p.warnings).toContain(`${NT}: hot-added NT function: its proxy aliases 00.0 are programmed into the IOMMU but do not count for its group (docs/how-linux-groups.md#hot-added-functions)`);
  });

  it("no register image: proxy aliases unknown, said in the warnings", () => {
    const p = predict(machine());
    expect(p.ntb.get(NT)).toEqual({ status: "unknown", rowId: "switchtec-ntb-dma-alias/gen3" });
    expect(p.warnings).toContain(`${NT}: Switchtec NT function: proxy aliases unknown: capture as root on the host with the NT function to read them`);
  });

  it("an incomplete excerpt is reported with the registers it lacks", () => {
    const p = predict(machine(tv16Image(1)));
    expect(p.ntb.get(NT)?.result?.status).toBe("incomplete");
    expect(p.warnings).toContain(`${NT}: the register excerpt lacks ntb_ctrl[32].req_id_table_size: proxy aliases may be incomplete; capture again as root`);
  });

  it("kernels without the quirk ignore the image", () => {
    const p = predict(machine(tv16Image()), { kernel: { major: 4, minor: 14 } });
    expect(p.ntb.size).toBe(0);
    expect(p.props(NT).aliasDevfns).toEqual([]);
  });
});

describe("Switchtec registers that did not answer", () => {
  it("all-ones ntb_info is reproduced as the kernel would read it, with a hint", () => {
    const p = predict(machine(ntbImage({ own: 0xff, mapLo: 0xffffffff, at0x24: 0xffffffff })));
    expect(p.warnings.some((w) => w.includes("reads partition id 0xff: BAR0 did not answer"))).toBe(true);
  });
});
