/** `fault --json` (schema iommu-atlas/fault@1) */
import type { Prediction } from "../iommu/predict.js";
import type { AliasJson } from "../json/aliases.js";
import { sourceToJson } from "../json/topology.js";
import type { SourceJson } from "../json/topology.js";
import type { Snapshot } from "../sources/snapshot.js";
import { explainFault } from "./explain.js";
import type { FaultCause, FaultKind } from "./explain.js";
import { formatFaultCause, formatFaultFormat, formatFaultNote, formatFaultSummary } from "./messages.js";
import type { FaultArch, FaultLineFormat, FaultLogParse } from "./parse.js";

export interface FaultJson {
  line: number;
  text: string[];
  arch: FaultArch;
  format: FaultLineFormat;
  era: string;
  /** requester ID with its segment (segment 0 when the line prints none and the source has one segment) */
  rid: string;
  segmentPrinted: boolean;
  /** numbers below are hex strings with 0x, as in simulate@1's fault records */
  streamId: string | null;
  address: string | null;
  access: "read" | "write" | null;
  code: string | null;
  reason: string | null;
  pasid: string | null;
  domain: string | null;
  flags: string | null;
  device: string | null;
  summary: string;
  kind: FaultKind;
  emitters: { bdf: string; alias: AliasJson }[];
  owner: string | null;
  aliasCovered: boolean;
  cause: FaultCause & { text: string };
  notes: string[];
}

export interface FaultReportJson {
  schema: "iommu-atlas/fault@1";
  source: SourceJson;
  faults: FaultJson[];
  /** lines that name an IOMMU fault but fit no known format */
  unread: { line: number; text: string }[];
}

const hex = (n: number | undefined): string | null => (n === undefined ? null : `0x${n.toString(16)}`);

export function faultsToJson(snapshot: Snapshot, label: string, p: Prediction, parsed: FaultLogParse): FaultReportJson {
  return {
    schema: "iommu-atlas/fault@1",
    source: sourceToJson(snapshot, label),
    faults: parsed.faults.map((f) => {
      const e = explainFault(snapshot, p, f);
      return {
        line: f.line,
        text: [...f.text],
        arch: f.arch,
        format: f.format,
        era: formatFaultFormat(f.format),
        rid: e.rid,
        segmentPrinted: f.segment !== undefined,
        streamId: hex(f.streamId),
        address: f.address ?? null,
        access: f.access ?? null,
        code: hex(f.code),
        reason: f.reason ?? null,
        pasid: hex(f.pasid),
        domain: hex(f.domain),
        flags: hex(f.flags),
        device: f.device ?? null,
        summary: formatFaultSummary(f, e.rid),
        kind: e.kind,
        emitters: e.emitters.map((m) => ({ bdf: m.bdf, alias: m.alias })),
        owner: e.owner,
        aliasCovered: e.aliasCovered,
        cause: { ...e.cause, text: formatFaultCause(e.cause) },
        notes: e.notes.map(formatFaultNote),
      };
    }),
    unread: parsed.unread.map((u) => ({ ...u })),
  };
}
