import { expect, test } from "vitest";
import { acpiIssueSeverity, formatAcpiIssue } from "./issues.js";
import type { AcpiIssue, AcpiIssueCode } from "./issues.js";

/** one sample per code; the `satisfies` makes a new code without a sample a compile error */
const samples = {
  "table-truncated": { code: "table-truncated", table: "DMAR", offset: 0, needed: 36, available: 20 },
  "bad-signature": { code: "bad-signature", table: "DMAR", offset: 0, expected: "DMAR", found: "XSDT" },
  "length-mismatch": { code: "length-mismatch", table: "IVRS", offset: 4, declared: 200, actual: 140 },
  "bad-checksum": { code: "bad-checksum", table: "DMAR", offset: 9, checksum: 0x50, sum: 0x01 },
  "structure-header-truncated": { code: "structure-header-truncated", table: "DMAR", offset: 0x88, available: 2 },
  "structure-zero-length": { code: "structure-zero-length", table: "IVRS", offset: 0x30, type: 0x10 },
  "structure-past-end": { code: "structure-past-end", table: "DMAR", offset: 0x30, type: 0, length: 512, available: 88 },
  "structure-too-short": { code: "structure-too-short", table: "DMAR", offset: 0x30, type: 0, length: 8, minimum: 16 },
  "dmar-width-invalid": { code: "dmar-width-invalid", table: "DMAR", offset: 36, width: 6 },
  "drhd-register-base-zero": { code: "drhd-register-base-zero", table: "DMAR", offset: 0x30 },
  "drhd-duplicate": { code: "drhd-duplicate", table: "DMAR", offset: 0x50, firstOffset: 0x30, segment: 0 },
  "scope-truncated": { code: "scope-truncated", table: "DMAR", offset: 0x40, available: 1 },
  "scope-too-short": { code: "scope-too-short", table: "DMAR", offset: 0x30, length: 4 },
  "scope-odd-length": { code: "scope-odd-length", table: "DMAR", offset: 0x40, length: 9 },
  "scope-past-end": { code: "scope-past-end", table: "DMAR", offset: 0x48, length: 10, available: 8 },
  "scope-type-unknown": { code: "scope-type-unknown", table: "DMAR", offset: 0x40, scopeType: 9 },
  "ivrs-no-blocks": { code: "ivrs-no-blocks", table: "IVRS", offset: 0x30 },
  "ivhd-type-unsupported": { code: "ivhd-type-unsupported", table: "IVRS", offset: 0x4c, blockType: 0x21 },
  "ivhd-entry-unknown-length": { code: "ivhd-entry-unknown-length", table: "IVRS", offset: 0x4c, entryType: 0x80 },
  "ivhd-entry-past-end": { code: "ivhd-entry-past-end", table: "IVRS", offset: 0x4c, entryType: 0x42, length: 8, available: 4 },
  "ivhd-range-unterminated": { code: "ivhd-range-unterminated", table: "IVRS", offset: 0x48, entryType: 0x43, devid: 0x0200 },
  "ivhd-range-end-without-start": { code: "ivhd-range-end-without-start", table: "IVRS", offset: 0x48, devid: 0x03ff },
  "ivhd-range-reversed": { code: "ivhd-range-reversed", table: "IVRS", offset: 0x4c, start: 0x0200, end: 0x0100 },
  "ivhd-special-variety-unknown": { code: "ivhd-special-variety-unknown", table: "IVRS", offset: 0x84, variety: 3 },
  "ivhd-acpi-hid-misplaced": { code: "ivhd-acpi-hid-misplaced", table: "IVRS", offset: 0x48, blockType: 0x10 },
  "ivhd-acpi-hid-empty": { code: "ivhd-acpi-hid-empty", table: "IVRS", offset: 0x58 },
  "iort-node-offset-invalid": { code: "iort-node-offset-invalid", table: "IORT", offset: 40, nodeOffset: 8 },
  "iort-node-count": { code: "iort-node-count", table: "IORT", offset: 36, declared: 5, found: 3 },
  "iort-node-type-unknown": { code: "iort-node-type-unknown", table: "IORT", offset: 0x30, nodeType: 9 },
  "iort-array-past-end": { code: "iort-array-past-end", table: "IORT", offset: 0x3c, what: "ID mappings", count: 300 },
  "iort-reference-invalid": { code: "iort-reference-invalid", table: "IORT", offset: 0x7c, reference: 0x1234 },
  "iort-mapping-overflow": { code: "iort-mapping-overflow", table: "IORT", offset: 0x70, inputBase: 0xffffff00, idCount: 0x1000 },
  "iort-rmr-empty": { code: "iort-rmr-empty", table: "IORT", offset: 0x44 },
  "iort-rmr-range-invalid": { code: "iort-rmr-range-invalid", table: "IORT", offset: 0x60, base: 0x80000000 },
} satisfies { [C in AcpiIssueCode]: Extract<AcpiIssue, { code: C }> };

test("the brief's example line", () => {
  expect(formatAcpiIssue(samples["scope-too-short"])).toBe("DMAR offset 0x30: device scope length 4 is shorter than 6");
});

test("every code formats to one line naming the table and offset, and has a severity", () => {
  for (const issue of Object.values(samples) as AcpiIssue[]) {
    const line = formatAcpiIssue(issue);
    expect(line).toMatch(new RegExp(`^${issue.table} offset 0x${issue.offset.toString(16)}: \\S`));
    expect(line).not.toMatch(/\n|undefined|NaN|\[object/);
    expect(["error", "warning"]).toContain(acpiIssueSeverity[issue.code]);
  }
});

test("selected wording", () => {
  expect(formatAcpiIssue(samples["structure-zero-length"])).toBe("IVRS offset 0x30: block type 0x10 has length 0; the rest of the table is not read");
  expect(formatAcpiIssue(samples["length-mismatch"])).toBe("IVRS offset 0x4: length field says 200 bytes but only 140 are present");
  expect(formatAcpiIssue(samples["ivhd-range-end-without-start"])).toBe("IVRS offset 0x48: IVHD range end at 03:1f.7 has no range start before it");
  expect(formatAcpiIssue(samples["bad-checksum"])).toBe("DMAR offset 0x9: checksum byte 0x50 leaves a byte sum of 0x01, not 0");
});
