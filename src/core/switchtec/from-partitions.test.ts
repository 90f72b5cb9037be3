import { describe, expect, it } from "vitest";
import { imageFromPartitions, proxyIdEntry } from "./from-partitions.js";
import { GasReader } from "./gas-image.js";
import { proxyAliases } from "./proxy-aliases.js";
import { tv16Image } from "./test-images.js";

describe("imageFromPartitions", () => {
  it("proxy ids: devfn strings become enabled entries, raw dwords stay as they are", () => {
    expect(proxyIdEntry("10.0")).toBe(0x101);
    expect(proxyIdEntry("1f.7")).toBe(0x1ff);
    expect(proxyIdEntry("0x00000103")).toBe(0x103);
    expect(proxyIdEntry(0xffff0000)).toBe(0xffff0000);
    expect(proxyIdEntry("20.0")).toBeUndefined();
    expect(proxyIdEntry("10.8")).toBeUndefined();
    expect(proxyIdEntry(-1)).toBeUndefined();
  });

  it("a TV16 table gives the same registers the quirk reads and the same result as the raw image", () => {
    const img = imageFromPartitions({ ownPartition: 1, partitions: { 0: { requesterIds: ["10.0", "0x00000103"] }, 2: { requesterIds: [0x111] } } });
    expect(img.issues).toEqual([]);
    const g = new GasReader(img);
    expect(g.u8(0x10001)).toBe(1);
    expect(g.u32(0x10004)).toBe(0b111);
    expect(g.u32(0x10024)).toBe(0);
    expect(g.u16(0x1401c)).toBe(2);
    expect(g.u32(0x14404)).toBe(0x103);
    expect(g.u16(0x1801c)).toBe(1);
    const fromTable = proxyAliases(img);
    const fromRaw = proxyAliases(tv16Image());
    expect(fromTable.devfns).toEqual([0x80, 0x81, 0x88]);
    expect({ ...fromTable, imageIssues: [] }).toEqual({ ...fromRaw, imageIssues: [] });
  });

  it("declared sizes reproduce the kernel's warnings; partitions past 31 land in ep_map's true high word", () => {
    const img = imageFromPartitions({
      ownPartition: 0,
      partitions: { 1: { requesterIds: [] }, 2: { requesterIds: ["10.0"], tableSize: 600 }, 40: { requesterIds: ["11.0"] } },
    });
    expect(new GasReader(img).u32(0x10008)).toBe(1 << 8);
    const r = proxyAliases(img);
    expect(r.warnings.map((w) => w.text)).toEqual(["Partition 1 table_sz 0", "Invalid Switchtec partition 2 table_sz 600"]);
    expect(r.devfns).toEqual([]); // partition 40 is missed: the kernel reads the high word at 0x10024
    expect(proxyAliases(img, { fixedMapHi: true }).devfns).toEqual([0x88]);
    const misread = imageFromPartitions({ ownPartition: 0, partitions: { 40: { requesterIds: ["11.0"] } }, ntp0TargetLow: 1 << 8 });
    expect(proxyAliases(misread).devfns).toEqual([0x88]);
  });

  it("bad input is reported in the image's issues and left out", () => {
    const img = imageFromPartitions({ ownPartition: 1, partitions: { 0: { requesterIds: ["nope", "10.0"] }, 70: { requesterIds: ["11.0"] } } });
    expect(img.issues).toEqual(['partition 0 proxy id 0: "nope" is neither a devfn (10.0) nor a 32-bit entry (0x00000101)', "partition 70 is outside 0..63"]);
    expect(proxyAliases(img).devfns).toEqual([0x80]);
  });
});
