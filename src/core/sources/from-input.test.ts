import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { snapshotFromBytes, sourceText } from "./from-input.js";

const LSPCI = readFileSync("src/core/lspci/fixtures/corpus/15-ryzen-zen1-a320-chipset-kernel4.txt");

/** the text as Windows PowerShell 5 saves it with `>`: UTF-16 little-endian with its mark */
function utf16(text: string, bigEndian = false): Uint8Array {
  const le = Buffer.from(`\ufeff${text}`, "utf16le");
  if (bigEndian) for (let i = 0; i + 1 < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
  return new Uint8Array(le);
}

describe("text sources", () => {
  it("UTF-16 with its byte-order mark reads as the UTF-8 file does, either byte order", () => {
    const want = snapshotFromBytes(LSPCI, "a.txt");
    expect(want.ok).toBe(true);
    for (const big of [false, true]) {
      const r = snapshotFromBytes(utf16(LSPCI.toString("utf8"), big), "a.txt");
      expect(r.ok).toBe(true);
      if (r.ok && want.ok) expect([...r.snapshot.topology.functions.keys()]).toEqual([...want.snapshot.topology.functions.keys()]);
    }
    expect(sourceText(utf16("caf\u00e9 \u{1f600}\n"), "x")).toEqual({ ok: true, text: "caf\u00e9 \u{1f600}\n" });
  });

  it("UTF-16 holding binary data, and raw binary, are still refused with an offset", () => {
    expect(sourceText(utf16("ab\u0000cd"), "x.txt")).toMatchObject({ ok: false, message: expect.stringMatching(/^x\.txt: offset 0x2: binary data \(a NUL byte\)/) });
    expect(sourceText(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1]), "p.png")).toMatchObject({ ok: false, message: expect.stringMatching(/^p\.png: offset 0x0: a PNG image/) });
    expect(sourceText(new Uint8Array(0), "e")).toMatchObject({ ok: false, message: expect.stringMatching(/^e: the file is empty/) });
    // without a mark, UTF-16 is binary (NUL bytes): never guessed
    expect(sourceText(new Uint8Array(Buffer.from("ab", "utf16le")), "n")).toMatchObject({ ok: false });
  });
});
