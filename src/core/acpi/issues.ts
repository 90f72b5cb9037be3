/**
 * Problems found while reading ACPI DMAR / IVRS tables, as structured data.
 *
 * Every issue names the table (its expected signature) and the byte offset
 * of the field or structure at fault. English lives only in
 * `formatAcpiIssue`.
 */
import { excerpt } from "../excerpt.js";

/** "error": the kernel would reject the table or stop reading it there; "warning": the rest is still usable */
export type AcpiSeverity = "error" | "warning";

export type AcpiIssue =
  // table header (header.ts)
  | { readonly code: "table-truncated"; readonly table: string; readonly offset: number; readonly needed: number; readonly available: number }
  | { readonly code: "bad-signature"; readonly table: string; readonly offset: number; readonly expected: string; readonly found: string }
  | { readonly code: "length-mismatch"; readonly table: string; readonly offset: number; readonly declared: number; readonly actual: number }
  | { readonly code: "bad-checksum"; readonly table: string; readonly offset: number; readonly checksum: number; readonly sum: number }
  // structure / block walk (both tables)
  | { readonly code: "structure-header-truncated"; readonly table: string; readonly offset: number; readonly available: number }
  | { readonly code: "structure-zero-length"; readonly table: string; readonly offset: number; readonly type: number }
  | { readonly code: "structure-past-end"; readonly table: string; readonly offset: number; readonly type: number; readonly length: number; readonly available: number }
  | { readonly code: "structure-too-short"; readonly table: string; readonly offset: number; readonly type: number; readonly length: number; readonly minimum: number }
  // DMAR
  | { readonly code: "dmar-width-invalid"; readonly table: string; readonly offset: number; readonly width: number }
  | { readonly code: "drhd-register-base-zero"; readonly table: string; readonly offset: number }
  | { readonly code: "drhd-duplicate"; readonly table: string; readonly offset: number; readonly firstOffset: number; readonly segment: number }
  | { readonly code: "scope-truncated"; readonly table: string; readonly offset: number; readonly available: number }
  | { readonly code: "scope-too-short"; readonly table: string; readonly offset: number; readonly length: number }
  | { readonly code: "scope-odd-length"; readonly table: string; readonly offset: number; readonly length: number }
  | { readonly code: "scope-past-end"; readonly table: string; readonly offset: number; readonly length: number; readonly available: number }
  | { readonly code: "scope-type-unknown"; readonly table: string; readonly offset: number; readonly scopeType: number }
  // IVRS
  | { readonly code: "ivrs-no-blocks"; readonly table: string; readonly offset: number }
  | { readonly code: "ivhd-type-unsupported"; readonly table: string; readonly offset: number; readonly blockType: number }
  | { readonly code: "ivhd-entry-unknown-length"; readonly table: string; readonly offset: number; readonly entryType: number }
  | { readonly code: "ivhd-entry-past-end"; readonly table: string; readonly offset: number; readonly entryType: number; readonly length: number; readonly available: number }
  | { readonly code: "ivhd-range-unterminated"; readonly table: string; readonly offset: number; readonly entryType: number; readonly devid: number }
  | { readonly code: "ivhd-range-end-without-start"; readonly table: string; readonly offset: number; readonly devid: number }
  | { readonly code: "ivhd-range-reversed"; readonly table: string; readonly offset: number; readonly start: number; readonly end: number }
  | { readonly code: "ivhd-special-variety-unknown"; readonly table: string; readonly offset: number; readonly variety: number }
  | { readonly code: "ivhd-acpi-hid-misplaced"; readonly table: string; readonly offset: number; readonly blockType: number }
  | { readonly code: "ivhd-acpi-hid-empty"; readonly table: string; readonly offset: number }
  // IORT
  | { readonly code: "iort-node-offset-invalid"; readonly table: string; readonly offset: number; readonly nodeOffset: number }
  | { readonly code: "iort-node-count"; readonly table: string; readonly offset: number; readonly declared: number; readonly found: number }
  | { readonly code: "iort-node-type-unknown"; readonly table: string; readonly offset: number; readonly nodeType: number }
  | { readonly code: "iort-array-past-end"; readonly table: string; readonly offset: number; readonly what: string; readonly count: number }
  | { readonly code: "iort-reference-invalid"; readonly table: string; readonly offset: number; readonly reference: number }
  | { readonly code: "iort-mapping-overflow"; readonly table: string; readonly offset: number; readonly inputBase: number; readonly idCount: number }
  | { readonly code: "iort-rmr-empty"; readonly table: string; readonly offset: number }
  | { readonly code: "iort-rmr-range-invalid"; readonly table: string; readonly offset: number; readonly base: number };

export type AcpiIssueCode = AcpiIssue["code"];

export const acpiIssueSeverity: Readonly<Record<AcpiIssueCode, AcpiSeverity>> = {
  "table-truncated": "error",
  "bad-signature": "error",
  "length-mismatch": "warning",
  "bad-checksum": "warning",
  "structure-header-truncated": "error",
  "structure-zero-length": "error",
  "structure-past-end": "error",
  "structure-too-short": "error",
  "dmar-width-invalid": "error",
  "drhd-register-base-zero": "error",
  "drhd-duplicate": "warning",
  "scope-truncated": "error",
  "scope-too-short": "error",
  "scope-odd-length": "warning",
  "scope-past-end": "error",
  "scope-type-unknown": "warning",
  "ivrs-no-blocks": "error",
  "ivhd-type-unsupported": "error",
  "ivhd-entry-unknown-length": "error",
  "ivhd-entry-past-end": "error",
  "ivhd-range-unterminated": "warning",
  "ivhd-range-end-without-start": "warning",
  "ivhd-range-reversed": "warning",
  "ivhd-special-variety-unknown": "error",
  "ivhd-acpi-hid-misplaced": "warning",
  "ivhd-acpi-hid-empty": "warning",
  "iort-node-offset-invalid": "error",
  "iort-node-count": "warning",
  "iort-node-type-unknown": "warning",
  "iort-array-past-end": "error",
  "iort-reference-invalid": "error",
  "iort-mapping-overflow": "warning",
  "iort-rmr-empty": "warning",
  "iort-rmr-range-invalid": "warning",
};

const hex = (n: number, width = 0): string => `0x${n.toString(16).padStart(width, "0")}`;
const rid = (devid: number): string => {
  const h = (n: number, w: number): string => n.toString(16).padStart(w, "0");
  return `${h(devid >> 8, 2)}:${h((devid >> 3) & 0x1f, 2)}.${devid & 7}`;
};
/** IVRS calls its top-level structures blocks, IORT nodes */
const unitWord = (table: string): string => (table === "IVRS" ? "block" : table === "IORT" ? "node" : "structure");

/** one English line for an issue, e.g. `DMAR offset 0x30: device scope length 4 is shorter than 6` */
export function formatAcpiIssue(issue: AcpiIssue): string {
  return `${issue.table} offset ${hex(issue.offset)}: ${describe(issue)}`;
}

function describe(issue: AcpiIssue): string {
  switch (issue.code) {
    case "table-truncated":
      return `only ${issue.available} bytes, the table header needs ${issue.needed}`;
    case "bad-signature":
      return `signature is "${excerpt(issue.found, 12)}", expected "${issue.expected}"`;
    case "length-mismatch":
      return issue.declared > issue.actual
        ? `length field says ${issue.declared} bytes but only ${issue.actual} are present`
        : `length field says ${issue.declared} bytes but ${issue.actual} were given`;
    case "bad-checksum":
      return `checksum byte ${hex(issue.checksum, 2)} leaves a byte sum of ${hex(issue.sum, 2)}, not 0`;
    case "structure-header-truncated":
      return `${issue.available} trailing bytes are too few for a ${unitWord(issue.table)} header`;
    case "structure-zero-length":
      return `${unitWord(issue.table)} type ${hex(issue.type)} has length 0; the rest of the table is not read`;
    case "structure-past-end":
      return `${unitWord(issue.table)} type ${hex(issue.type)} of length ${issue.length} runs past the end of the table (${issue.available} bytes left)`;
    case "structure-too-short":
      return `${unitWord(issue.table)} type ${hex(issue.type)} has length ${issue.length}, shorter than its fixed part of ${issue.minimum}`;
    case "dmar-width-invalid":
      return `host address width ${issue.width} is below the 12 bits Linux requires`;
    case "drhd-register-base-zero":
      return "DRHD register base address is 0";
    case "drhd-duplicate":
      return `DRHD repeats segment ${issue.segment} and register base of the DRHD at ${hex(issue.firstOffset)}; Linux skips it`;
    case "scope-truncated":
      return `${issue.available} trailing bytes are too few for a device scope header`;
    case "scope-too-short":
      return `device scope length ${issue.length} is shorter than 6`;
    case "scope-odd-length":
      return `device scope length ${issue.length} is odd; the last byte is ignored`;
    case "scope-past-end":
      return `device scope length ${issue.length} runs past the end of its structure (${issue.available} bytes left)`;
    case "scope-type-unknown":
      return `device scope type ${issue.scopeType} is unknown`;
    case "ivrs-no-blocks":
      return "the table holds no IVHD block";
    case "ivhd-type-unsupported":
      return `Linux would pick block type ${hex(issue.blockType, 2)}, which is not an IVHD type it can use`;
    case "ivhd-entry-unknown-length":
      return `IVHD entry type ${hex(issue.entryType, 2)} has no known length; the rest of the block is not read`;
    case "ivhd-entry-past-end":
      return `IVHD entry type ${hex(issue.entryType, 2)} of length ${issue.length} runs past the end of its block (${issue.available} bytes left)`;
    case "ivhd-range-unterminated":
      return `IVHD range start (type ${hex(issue.entryType, 2)}) at ${rid(issue.devid)} has no range end`;
    case "ivhd-range-end-without-start":
      return `IVHD range end at ${rid(issue.devid)} has no range start before it`;
    case "ivhd-range-reversed":
      return `IVHD range ${rid(issue.start)}..${rid(issue.end)} ends before it starts`;
    case "ivhd-special-variety-unknown":
      return `IVHD special entry variety ${issue.variety} is neither IOAPIC (1) nor HPET (2)`;
    case "ivhd-acpi-hid-misplaced":
      return `ACPI HID entry inside an IVHD of type ${hex(issue.blockType, 2)} (only type 0x40 may hold one) is ignored`;
    case "ivhd-acpi-hid-empty":
      return "ACPI HID entry has an empty HID and is ignored";
    case "iort-node-offset-invalid":
      return `node array offset ${hex(issue.nodeOffset)} lies inside the header or past the end; no node is read`;
    case "iort-node-count":
      return `the table declares ${issue.declared} nodes but only ${issue.found} fit in it`;
    case "iort-node-type-unknown":
      return `node type ${hex(issue.nodeType, 2)} is unknown; Linux skips it`;
    case "iort-array-past-end":
      return `${issue.count} ${issue.what} run past the end of the node; the rest are not read`;
    case "iort-reference-invalid":
      return `ID mapping output reference ${hex(issue.reference)} is not the offset of any node; IDs mapped there reach no SMMU`;
    case "iort-mapping-overflow":
      return `ID mapping input range ${hex(issue.inputBase)} + ${hex(issue.idCount)} runs past 32 bits`;
    case "iort-rmr-empty":
      return "RMR node lists no memory range";
    case "iort-rmr-range-invalid":
      return `RMR memory range at ${hex(issue.base)} has length 0 and is ignored`;
  }
}
