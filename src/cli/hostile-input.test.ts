/**
 * Bad input never crashes: random and mutated inputs to every reader give
 * data, issues or one clear error — never an unexpected exception.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeConfig } from "../core/config/decode.js";
import { snapshotFromDesign } from "../core/design/from-design.js";
import { predict } from "../core/iommu/predict.js";
import { snapshotFromLspci } from "../core/lspci/index.js";
import { snapshotFromSysfs } from "../core/sources/from-sysfs.js";
import { BUNDLED_EXAMPLE } from "./load.js";
import { decodeArchive } from "./sysfs/archive.js";
import { SourceError } from "./sysfs/errors.js";

const sample = readFileSync("src/core/lspci/fixtures/corpus/15-ryzen-zen1-a320-chipset-kernel4.txt", "utf8");

describe("hostile input", () => {
  it("decodeConfig never throws on random bytes of any length", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), (bytes, complete) => {
        const r = decodeConfig(bytes, { complete });
        expect(Array.isArray(r.issues)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("lspci text: cut and spliced real dumps read or are refused with a line number", () => {
    const lines = sample.split("\n");
    fc.assert(
      fc.property(fc.nat(lines.length), fc.nat(lines.length), fc.string({ maxLength: 200 }), (a, b, junk) => {
        const text = [...lines.slice(0, Math.min(a, b)), junk, ...lines.slice(Math.max(a, b))].join("\n");
        const r = snapshotFromLspci(text);
        if (r.ok) predict(r.snapshot);
        else expect(r.line).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 150 },
    );
  });

  it("design YAML: random text is refused with a line, never thrown", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const r = snapshotFromDesign(`devices:\n${text}`);
        if (!r.ok) for (const p of r.problems) expect(p.line).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it("capture archives: flipped bytes give a snapshot or a SourceError, nothing else", () => {
    const archive = new Uint8Array(readFileSync(BUNDLED_EXAMPLE));
    fc.assert(
      fc.property(fc.nat(archive.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(archive.length), (at, xor, cut) => {
        const bytes = archive.slice(0, Math.max(1, cut));
        if (at < bytes.length) bytes[at]! ^= xor;
        try {
          predict(snapshotFromSysfs(decodeArchive(bytes, "x.tar.gz")));
        } catch (err) {
          expect(err).toBeInstanceOf(SourceError);
        }
      }),
      { numRuns: 200 },
    );
  });
});
