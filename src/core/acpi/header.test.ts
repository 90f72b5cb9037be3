import { expect, test } from "vitest";
import { encodeAcpiTable, setAcpiChecksum, u32le } from "./encode.js";
import { parseAcpiHeader } from "./header.js";

test("reads every header field and trims the OEM strings", () => {
  const bytes = encodeAcpiTable("SSDT", [1, 2, 3, 4], 2);
  const { header, end, issues } = parseAcpiHeader(bytes, "SSDT");
  expect(issues).toEqual([]);
  expect(end).toBe(40);
  expect(header).toEqual({
    signature: "SSDT",
    length: 40,
    revision: 2,
    checksum: bytes[9],
    checksumValid: true,
    oemId: "ATLAS",
    oemTableId: "SYNTH",
    oemRevision: 1,
    creatorId: "ATLS",
    creatorRevision: 1,
  });
});

test("a length field below 36 is reported and the bytes given are used", () => {
  const bytes = encodeAcpiTable("DMAR", new Array<number>(12).fill(0));
  bytes.set(u32le(8), 4);
  const r = parseAcpiHeader(setAcpiChecksum(bytes), "DMAR");
  expect(r.issues).toEqual([{ code: "length-mismatch", table: "DMAR", offset: 4, declared: 8, actual: 48 }]);
  expect(r.end).toBe(48);
});

test("an empty buffer is one issue, not an exception", () => {
  const r = parseAcpiHeader(new Uint8Array(0), "IVRS");
  expect(r).toEqual({ header: undefined, end: 0, issues: [{ code: "table-truncated", table: "IVRS", offset: 0, needed: 36, available: 0 }] });
});

test("a subarray view with a non-zero byteOffset reads the view, not the backing buffer", () => {
  const table = encodeAcpiTable("DMAR", new Array<number>(12).fill(0));
  const backing = new Uint8Array(table.length + 7).fill(0xee);
  backing.set(table, 7);
  const r = parseAcpiHeader(backing.subarray(7), "DMAR");
  expect(r.issues).toEqual([]);
  expect(r.header?.signature).toBe("DMAR");
});
