import { mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeExcerpt } from "../../core/switchtec/excerpt.js";
import { fakeNtResource0, fakeResourceFile } from "./fake-sysfs.js";
import { memBar0, readNtbExcerpt } from "./ntb-registers.js";

const line = (start: string, end: string, flags: string): string => `0x${start} 0x${end} 0x${flags}\n`;
const ZERO = "0".repeat(16);

describe("memBar0", () => {
  it("reads BAR0 from line 1 of a kernel resource file", () => {
    expect(memBar0(fakeResourceFile({ base: 0xfb00_0000, size: 0x80_0000 }))).toEqual({ start: 0xfb00_0000, size: 0x80_0000 });
    // a 64-bit prefetchable BAR above 4 GiB
    expect(memBar0(line("0000003fffe00000", "0000003fffffffff", "000000000014220c"))).toEqual({ start: 0x3f_ffe0_0000, size: 0x20_0000 });
    // only line 1 counts; no newline is fine
    expect(memBar0(`${line("0000000010000000", "0000000010000fff", "0000000000040200")}garbage`)).toEqual({ start: 0x1000_0000, size: 0x1000 });
    expect(memBar0(line("0000000010000000", "0000000010000fff", "0000000000040200").trimEnd())).toEqual({ start: 0x1000_0000, size: 0x1000 });
  });

  it.each([
    ["an unassigned BAR (all zeros)", fakeResourceFile()],
    ["an I/O BAR", line("000000000000e000", "000000000000e0ff", "0000000000040101")],
    ["IORESOURCE_UNSET", line("0000000010000000", "0000000010000fff", "0000000020040200")],
    ["IORESOURCE_DISABLED", line("0000000010000000", "0000000010000fff", "0000000010040200")],
    ["flags at or above 2^32", line("0000000010000000", "0000000010000fff", "0000000100040200")],
    ["start 0", line(ZERO, "0000000000000fff", "0000000000040200")],
    ["end below start", line("0000000010000000", "000000000fffffff", "0000000000040200")],
    ["end at or above 2^52", line("000ffffffff00000", "0010000000000fff", "0000000000040200")],
    ["start not a multiple of 4", line("0000000010000002", "0000000010000fff", "0000000000040200")],
    ["end + 1 not a multiple of 4", line("0000000010000000", "0000000010000ffd", "0000000000040200")],
    ["uppercase hex", line("00000000FB000000", "00000000FB7FFFFF", "0000000000040200")],
    ["15 digits", "0x000000010000000 0x0000000010000fff 0x0000000000040200\n"],
    ["two spaces", "0x0000000010000000  0x0000000010000fff 0x0000000000040200\n"],
    ["a tab", "0x0000000010000000\t0x0000000010000fff 0x0000000000040200\n"],
    ["a fourth field", "0x0000000010000000 0x0000000010000fff 0x0000000000040200 0x0\n"],
    ["an empty line 1", `\n${line("0000000010000000", "0000000010000fff", "0000000000040200")}`],
    ["an empty file", ""],
  ])("gives nothing for %s", (_what, text) => {
    expect(memBar0(text)).toBeUndefined();
  });
});

describe("readNtbExcerpt", () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "iommu-atlas-ntb-"));
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const bar = fakeNtResource0();
  const at = (offset: number, size: number) => ({ offset, bytes: bar.subarray(offset, offset + size) });
  const FULL = [at(0x10000, 0x40), at(0x1401c, 4), at(0x14400, 8), at(0x1801c, 4), at(0x18400, 4), at(0x1a01c, 4), at(0x5401c, 4)];

  async function sparse(name: string, position: number, data: Uint8Array): Promise<string> {
    const file = path.join(tmp, name);
    const fh = await open(file, "w");
    await fh.write(data, 0, data.length, position);
    await fh.close();
    return file;
  }

  it("reads the same records from a BAR file and from physical memory at the BAR's address", async () => {
    const resource0 = path.join(tmp, "resource0");
    await writeFile(resource0, bar);
    const mem = await sparse("mem", 0x2000_0000, bar);
    const expected = { kind: "excerpt", bytes: encodeExcerpt(FULL) };
    expect(await readNtbExcerpt({ file: resource0 })).toEqual(expected);
    expect(await readNtbExcerpt({ file: mem, base: 0x2000_0000, size: bar.length })).toEqual(expected);
  });

  it("stops at BAR0's end in physical memory, though bytes follow there", async () => {
    const mem = await sparse("mem", 0x1000, bar);
    // BAR0 ends 4 bytes into partition 0's 8-byte table: that record is cut, the later ones are empty
    const r = await readNtbExcerpt({ file: mem, base: 0x1000, size: 0x14404 });
    expect(r).toEqual({ kind: "excerpt", bytes: encodeExcerpt([at(0x10000, 0x40), at(0x1401c, 4), at(0x14400, 4)]) });
  });

  it("stops after ntb_info when it reads as all ones", async () => {
    const ones = new Uint8Array(bar.length).fill(0xff);
    const mem = await sparse("mem", 0x1000, ones);
    expect(await readNtbExcerpt({ file: mem, base: 0x1000, size: ones.length })).toEqual({ kind: "all-ones" });
    // one byte that is not 0xff is data
    ones[0x1003f] = 0xfe;
    await writeFile(path.join(tmp, "resource0"), ones);
    expect((await readNtbExcerpt({ file: path.join(tmp, "resource0") })).kind).toBe("excerpt");
  });

  it("an empty read (a BAR too small for ntb_info) gives the magic alone", async () => {
    await writeFile(path.join(tmp, "resource0"), bar.subarray(0, 0x8000));
    expect(await readNtbExcerpt({ file: path.join(tmp, "resource0") })).toEqual({ kind: "excerpt", bytes: encodeExcerpt([]) });
  });

  it("throws the fs error of a file it cannot open or read", async () => {
    await mkdir(path.join(tmp, "dir"));
    await expect(readNtbExcerpt({ file: path.join(tmp, "dir") })).rejects.toMatchObject({ code: "EISDIR" });
    await expect(readNtbExcerpt({ file: path.join(tmp, "absent"), base: 0x1000, size: 0x100000 })).rejects.toMatchObject({ code: "ENOENT" });
  });
});
