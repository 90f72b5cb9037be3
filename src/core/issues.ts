/**
 * Problems found in input, as structured data. English lives in messages.ts.
 *
 * Severity: "error" means the item could not be used; "warning" means the
 * rest of the data is still usable; "info" records a limit of the input
 * (a short dump) that later conclusions must respect.
 */
export type Severity = "error" | "warning" | "info";

export type ConfigIssue =
  | { code: "config-absent" }
  | { code: "config-short"; known: number }
  | { code: "config-all-ones"; offset: number }
  | { code: "header-type-unknown"; offset: number; headerType: number }
  | { code: "cap-pointer-invalid"; offset: number; pointer: number; space: "standard" | "extended" }
  | { code: "cap-loop"; offset: number; space: "standard" | "extended" }
  | { code: "cap-beyond-known"; offset: number; known: number; space: "standard" | "extended" }
  | { code: "cap-truncated"; offset: number; capId: number; need: number }
  | { code: "cap-duplicate"; offset: number; capId: number; first: number };

export type TopologyIssue =
  | { code: "duplicate-bdf"; bdf: string }
  | { code: "bus-claimed-twice"; segment: number; bus: number; bridges: readonly string[] }
  | { code: "bus-range-overlap"; bdf: string; other: string; secondary: number; subordinate: number }
  | { code: "bus-loop"; bdf: string; bus: number }
  | { code: "bus-range-invalid"; bdf: string; secondary: number; subordinate: number; primary: number }
  | { code: "bus-outside-parent-range"; bdf: string; bus: number; parent: string }
  | { code: "not-scanned"; bdf: string; reason: "no-function-0" | "slot-below-port" | "function-0-single" }
  | { code: "sysfs-parent-mismatch"; bdf: string; sysfsParent: string | null; configParent: string | null }
  | { code: "vf-predicted"; bdf: string; physfn: string }
  | { code: "vf-bus-overflow"; physfn: string; vf: number };

export type IssueCode = ConfigIssue["code"] | TopologyIssue["code"];

export const issueSeverity: Record<IssueCode, Severity> = {
  "config-absent": "warning",
  "config-short": "info",
  "config-all-ones": "error",
  "header-type-unknown": "warning",
  "cap-pointer-invalid": "warning",
  "cap-loop": "warning",
  "cap-beyond-known": "info",
  "cap-truncated": "warning",
  "cap-duplicate": "warning",
  "duplicate-bdf": "error",
  "bus-claimed-twice": "error",
  "bus-range-overlap": "warning",
  "bus-loop": "error",
  "bus-range-invalid": "warning",
  "bus-outside-parent-range": "warning",
  "not-scanned": "info",
  "sysfs-parent-mismatch": "warning",
  "vf-predicted": "info",
  "vf-bus-overflow": "warning",
};
