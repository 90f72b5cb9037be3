import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { dmaAliases } from "../iommu/dma-alias.js";
import { predict } from "../iommu/predict.js";
import { proxyAliases } from "../switchtec/proxy-aliases.js";
import { tv16Image } from "../switchtec/test-images.js";
import { formatRid } from "../topology/address.js";
import { snapshotFromDesign } from "./from-design.js";

const example = readFileSync(path.resolve("examples/designs/switchtec-ntb.yaml"), "utf8");
const NT = "0000:03:00.1";

function load(text: string) {
  const r = snapshotFromDesign(text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.snapshot;
}

describe("design files: a Switchtec partition table", () => {
  it("examples/designs/switchtec-ntb.yaml gives the same quirk result as the TV16 register image", () => {
    const snapshot = load(example);
    const image = snapshot.ntb?.get(NT);
    expect(image).toBeDefined();
    const fromDesign = proxyAliases(image!);
    const fromRegisters = proxyAliases(tv16Image());
    expect(fromDesign.devfns).toEqual([0x80, 0x81, 0x88]);
    expect(fromDesign.devfns).toEqual(fromRegisters.devfns);
    expect(fromDesign.entries).toEqual(fromRegisters.entries);
    expect(fromDesign.log).toEqual(fromRegisters.log);
  });

  it("predict feeds the proxy devfns into the NT function's aliases, caused by the quirk row", () => {
    const p = predict(load(example));
    expect(p.ntb.get(NT)).toMatchObject({ status: "from-design", rowId: "switchtec-ntb-dma-alias/gen3" });
    const props = p.props(NT);
    expect(props.aliasDevfns).toEqual([0x80, 0x81, 0x88]);
    expect([...props.aliasCauses.values()]).toEqual(Array(3).fill("switchtec-ntb-dma-alias/gen3"));
    const aliases = dmaAliases(p.topology, p.props, p.topology.functions.get(NT)!);
    expect(aliases.map((a) => `${formatRid(a.rid)} ${a.cause}`)).toEqual(["03:00.1 own", "03:10.0 quirk", "03:10.1 quirk", "03:11.0 quirk"]);
    // nothing lives at 03:10.0/10.1/11.0: groups are those of the same machine without the quirk
    const plain = predict(load(example), { kernel: { major: 4, minor: 14 } });
    expect(p.groups.groups.map((g) => g.members)).toEqual(plain.groups.groups.map((g) => g.members));
    expect(p.warnings.filter((w) => w.includes("Switchtec"))).toEqual([]);
  });

  it("without a table the proxy aliases are unknown, and the prediction says so", () => {
    const bare = example.replace(/\n {4}switchtec:[\s\S]*$/, "\n");
    const p = predict(load(bare));
    expect(p.ntb.get(NT)).toEqual({ status: "unknown", rowId: "switchtec-ntb-dma-alias/gen3" });
    expect(p.props(NT).aliasDevfns).toEqual([]);
    expect(p.warnings).toContain(`${NT}: Switchtec NT function: proxy aliases unknown: capture as root on the host with the NT function to read them`);
  });

  it("size registers declared to disagree reproduce the kernel's warnings", () => {
    const text = example.replace('2: ["11.0"]', "2: { proxy_ids: [0x111], table_size: 0 }\n        3: { table_size: 513 }");
    const p = predict(load(text));
    expect(p.ntb.get(NT)?.result?.warnings.map((w) => w.text)).toEqual(["Partition 2 table_sz 0", "Invalid Switchtec partition 3 table_sz 513"]);
    expect(p.props(NT).aliasDevfns).toEqual([0x80, 0x81]);
    expect(p.warnings).toContain(`${NT}: the Switchtec quirk warns "Partition 2 table_sz 0": no proxy aliases for partition 2, DMA arriving from it faults`);
  });

  it("rejects a table on a function that is not a Switchtec NT endpoint, bad ids, and unquoted devfns", () => {
    const onNvme = snapshotFromDesign(example.replace('{ bdf: "05:00.0", type: endpoint, id: "144d:a808", class: "0108" }', '{ bdf: "05:00.0", type: endpoint, id: "144d:a808", class: "0108", switchtec: { own_partition: 0, partitions: {} } }'));
    expect(onNvme.ok).toBe(false);
    if (!onNvme.ok) expect(onNvme.problems).toEqual([{ line: 15, path: "devices[4].switchtec", message: "only a Switchtec NT endpoint has a partition table: id 11f8:xxxx or 1055:xxxx and class 068000" }]);

    const badId = snapshotFromDesign(example.replace('["11.0"]', '["11.9"]'));
    expect(!badId.ok && badId.problems[0]).toMatchObject({ path: "devices[5].switchtec.partitions[2][0]", message: expect.stringContaining("expected a proxy devfn") });

    const unquoted = snapshotFromDesign(example.replace('["11.0"]', "[11.0]"));
    expect(!unquoted.ok && unquoted.problems).toEqual([
      { line: 28, path: "devices[5].switchtec.partitions[2][0]", message: 'quote proxy devfns ("11.0"): unquoted, YAML reads the number 11' },
    ]);

    const badPartition = snapshotFromDesign(example.replace('2: ["11.0"]', '64: ["11.0"]'));
    expect(!badPartition.ok && badPartition.problems[0]?.message).toBe("expected a partition number 0..63, not 64");
  });
});
