import { describe, expect, it } from "vitest";
import { EMPTY_GAS_IMAGE, gasImage } from "./gas-image.js";
import { proxyAliases } from "./proxy-aliases.js";
import { dwords, ntbImage, tv16Image, TV16_PARTITIONS } from "./test-images.js";

describe("proxyAliases: quirk_switchtec_ntb_dma_alias over a BAR0 image", () => {
  it("TV16: own partition 1, ep_map 0x7 → partitions 0 and 2, mask {0x80, 0x81, 0x88}", () => {
    const r = proxyAliases(tv16Image());
    expect(r.status).toBe("ok");
    expect(r.devfns).toEqual([0x80, 0x81, 0x88]);
    expect(r.ownPartition).toBe(1);
    expect(r.mapHiOffset).toBe(0x24);
    expect(r.partitions).toEqual([
      { partition: 0, tableSize: 2, outcome: "aliased" },
      { partition: 2, tableSize: 1, outcome: "aliased" },
    ]);
    expect(r.entries).toEqual([
      { partition: 0, index: 0, entry: 0x101, devfn: 0x80, enabled: true },
      { partition: 0, index: 1, entry: 0x103, devfn: 0x81, enabled: true },
      { partition: 2, index: 0, entry: 0x111, devfn: 0x88, enabled: true },
    ]);
    expect(r.warnings).toEqual([]);
    expect(r.missing).toEqual([]);
    expect(r.log).toEqual([
      "Setting Switchtec proxy ID aliases",
      "Processing partition 0",
      "Aliasing Partition 0 Proxy ID 10.0",
      "Aliasing Partition 0 Proxy ID 10.1",
      "Processing partition 2",
      "Aliasing Partition 2 Proxy ID 11.0",
    ]);
  });

  it("bug-compat: dword@0x10024 = 1 is read as ep_map's high word, so partition 32 is processed too", () => {
    const withP32 = ntbImage({ own: 1, mapLo: 7, at0x24: 1, partitions: { ...TV16_PARTITIONS, 32: { size: 1, entries: [0x0000012b] } } });
    const r = proxyAliases(withP32);
    expect(r.partitions.map((p) => p.partition)).toEqual([0, 2, 32]);
    expect(r.devfns).toEqual([0x80, 0x81, 0x88, 0x95]);
    expect(r.log).toContain("Processing partition 32");
    expect(r.log).toContain("Aliasing Partition 32 Proxy ID 12.5");

    // the true high word (+0x08) is 0: with the slip fixed, partition 32 is not visited
    const fixed = proxyAliases(withP32, { fixedMapHi: true });
    expect(fixed.mapHiOffset).toBe(0x08);
    expect(fixed.partitions.map((p) => p.partition)).toEqual([0, 2]);
    expect(fixed.devfns).toEqual([0x80, 0x81, 0x88]);
  });

  it("bug-compat: a real partition above 31 in ep_map's high word is missed unless 0x10024 happens to name it", () => {
    const img = ntbImage({ own: 0, mapLo: 1, mapHi: 1 << 8, partitions: { 40: { size: 1, entries: [0x101] } } });
    expect(proxyAliases(img).devfns).toEqual([]);
    expect(proxyAliases(img, { fixedMapHi: true }).devfns).toEqual([0x80]);
    // a kernel version alone does not change it: no fixed release is known
    expect(proxyAliases(img, { kernel: { major: 7, minor: 9 } }).mapHiOffset).toBe(0x24);
  });

  it("bug-compat: with 0x10024 set and partition 32's block not captured, the result is incomplete", () => {
    const r = proxyAliases(tv16Image(1));
    expect(r.status).toBe("incomplete");
    expect(r.devfns).toEqual([0x80, 0x81, 0x88]);
    expect(r.partitions[2]).toEqual({ partition: 32, tableSize: undefined, outcome: "not-captured" });
    expect(r.missing).toEqual([{ offset: 0x14000 + 32 * 0x2000 + 0x1c, size: 2, register: "ntb_ctrl[32].req_id_table_size" }]);
  });

  it("table size 0 warns with the kernel's text and adds nothing", () => {
    const r = proxyAliases(ntbImage({ own: 0, mapLo: 0b110, partitions: { 1: { size: 0, entries: [] }, 2: { size: 1, entries: [0x111] } } }));
    expect(r.warnings).toEqual([{ text: "Partition 1 table_sz 0", partition: 1 }]);
    expect(r.partitions[0]).toEqual({ partition: 1, tableSize: 0, outcome: "table-size-zero" });
    expect(r.devfns).toEqual([0x88]);
    expect(r.status).toBe("ok");
  });

  it("table size above 512 warns with the kernel's text and skips the partition", () => {
    const r = proxyAliases(ntbImage({ own: 0, mapLo: 0b110, partitions: { 1: { size: 513, entries: [0x101] }, 2: { size: 512, entries: Array(512).fill(0x111) } } }));
    expect(r.warnings).toEqual([{ text: "Invalid Switchtec partition 1 table_sz 513", partition: 1 }]);
    expect(r.partitions[0]).toEqual({ partition: 1, tableSize: 513, outcome: "table-size-invalid" });
    // 512 is accepted: 512 adds of the same devfn, one mask bit
    expect(r.entries).toHaveLength(512);
    expect(r.devfns).toEqual([0x88]);
  });

  it("the enable bit is not checked: an unprogrammed entry 0 aliases devfn 00.0", () => {
    const r = proxyAliases(ntbImage({ own: 0, mapLo: 0b10, partitions: { 1: { size: 3, entries: [0x00000000, 0x00000102, 0x00000101] } } }));
    expect(r.devfns).toEqual([0x00, 0x81, 0x80]);
    expect(r.entries.map((e) => e.enabled)).toEqual([false, false, true]);
    expect(r.log).toContain("Aliasing Partition 1 Proxy ID 00.0");
  });

  it("the own partition's bit is cleared: its table is never read", () => {
    const r = proxyAliases(ntbImage({ own: 2, mapLo: 0b101, partitions: { 0: { size: 1, entries: [0x101] }, 2: { size: 1, entries: [0x1ff] } } }));
    expect(r.partitions.map((p) => p.partition)).toEqual([0]);
    expect(r.devfns).toEqual([0x80]);
  });

  it("the own partition in the high word (own 33) is cleared there", () => {
    const r = proxyAliases(ntbImage({ own: 33, mapLo: 0, at0x24: 0b11, partitions: { 32: { size: 1, entries: [0x101] }, 33: { size: 1, entries: [0x1ff] } } }));
    expect(r.partitions.map((p) => p.partition)).toEqual([32]);
  });

  it("walks partitions 0..63 and only those in the map", () => {
    const r = proxyAliases(ntbImage({ own: 0, mapLo: 0x80000000, at0x24: 0x80000000, partitions: { 31: { size: 1, entries: [0x2] }, 63: { size: 1, entries: [0x4] } } }));
    expect(r.partitions.map((p) => p.partition)).toEqual([31, 63]);
    expect(r.devfns).toEqual([0x01, 0x02]);
  });

  it("2-partition and 4-partition switches", () => {
    const two = proxyAliases(ntbImage({ own: 0, mapLo: 0b11, partitions: { 1: { size: 2, entries: [0x00000101, 0x01000103] } } }));
    expect(two.devfns).toEqual([0x80, 0x81]);
    const four = proxyAliases(
      ntbImage({
        own: 3,
        mapLo: 0b1111,
        partitions: { 0: { size: 1, entries: [0x101] }, 1: { size: 2, entries: [0x111, 0x113] }, 2: { size: 1, entries: [0x121] }, 3: { size: 1, entries: [0x1fe] } },
      }),
    );
    expect(four.devfns).toEqual([0x80, 0x88, 0x89, 0x90]);
  });

  it("devfn = (entry >> 1) & 0xff: the requester-ID half of the entry does not leak in", () => {
    const r = proxyAliases(ntbImage({ own: 0, mapLo: 0b10, partitions: { 1: { size: 1, entries: [0xffff01ff] } } }));
    expect(r.devfns).toEqual([0xff]);
  });

  it("registers not captured make the result incomplete and say which", () => {
    const none = proxyAliases(EMPTY_GAS_IMAGE);
    expect(none.status).toBe("incomplete");
    expect(none.devfns).toEqual([]);
    expect(none.missing.map((m) => m.register)).toEqual([
      "ntb_info.partition_id",
      "ntb_info.ep_map (low word)",
      "ntb_info.ntp_info[0].target_part_low (read as ep_map high word)",
    ]);

    // table of 4 with entries 1 and 2 missing
    const holes = gasImage([
      ...ntbImage({ own: 0, mapLo: 0b10, partitions: { 1: { size: 4, entries: [0x101] } } }).regions,
      { offset: 0x16400 + 12, bytes: dwords(0x107) },
    ]);
    const r = proxyAliases(holes);
    expect(r.status).toBe("incomplete");
    expect(r.devfns).toEqual([0x80, 0x83]);
    expect(r.missing).toEqual([{ offset: 0x16404, size: 8, register: "ntb_ctrl[1].req_id_table[1..2]" }]);
  });
});
