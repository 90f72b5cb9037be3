/**
 * The run of a scenario as plain data (schema iommu-atlas/simulate@1):
 * what `simulate --json` prints and the text renderer reads. Requester IDs
 * are `bb:dd.f`, addresses hex strings, and every step and outcome carries
 * its English in `text`.
 */
import { entryToJson } from "../program/context-table.js";
import type { EntryJson } from "../program/context-table.js";
import { formatFault, formatPolicy } from "../program/messages.js";
import type { AliasPolicy } from "../program/targets.js";
import { formatKernel } from "../kernel/version.js";
import { formatDevfn, formatRid } from "../topology/address.js";
import type { FaultRecord } from "./fault-log.js";
import { formatOutcome, formatStep } from "./messages.js";
import type { Outcome, Step } from "./outcome.js";
import type { CheckedResult, ExpectFailure, ScenarioRun } from "./simulation.js";

export interface HostJson {
  name: string;
  kernel: string;
  iommu: "vtd" | "amd" | "smmu" | "none";
  mode: "legacy" | "scalable" | null;
  policy: AliasPolicy | null;
  policyText: string | null;
  logFormat: string | null;
  bootLog: string[];
  domains: { name: string; kind: string; mappings: { iova: string; paddr: string; size: string; perm: string }[] }[];
  entries: EntryJson[];
}

export type StepJson = { code: Step["code"]; host: string; text: string } & Record<string, unknown>;
export type OutcomeJson = { kind: Outcome["kind"]; host: string; text: string } & Record<string, unknown>;

export interface TransactionJson {
  index: number;
  name: string | null;
  host: string;
  from: string;
  access: "read" | "write";
  address: string;
  size: number;
  steps: StepJson[];
  outcome: OutcomeJson;
  expect: { checked: string[]; failures: ExpectFailure[] };
}

export interface SimulateJson {
  schema: "iommu-atlas/simulate@1";
  scenario: string;
  description: string | null;
  passed: boolean;
  hosts: HostJson[];
  warnings: { host: string | null; message: string }[];
  missingWarnings: string[];
  transactions: TransactionJson[];
  summary: { delivered: number; faulted: number; dropped: number; notIssued: number; expectationsChecked: number; expectationsFailed: number };
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const RID_KEYS = new Set(["rid", "from"]);
const ADDRESS_KEYS = new Set(["address", "result", "offset"]);
const PERM_TEXT = ["none", "r", "w", "rw"];

/** a step or outcome's fields in JSON form */
function fields(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) out[k] = null;
    else if (typeof v === "number" && RID_KEYS.has(k)) out[k] = formatRid(v);
    else if (typeof v === "number" && ADDRESS_KEYS.has(k)) out[k] = hex(v);
    else if (k === "proxy" && typeof v === "number") out[k] = formatDevfn(v);
    else if (k === "registered" && Array.isArray(v)) out[k] = v.map((r: number) => formatRid(r));
    else if (k === "fault" && v && typeof v === "object" && "code" in v) {
      const f = v as Parameters<typeof formatFault>[0];
      out[k] = { arch: f.arch, code: hex(f.code), name: f.name, reason: formatFault(f) };
    } else if (k === "record") out[k] = recordJson(v as FaultRecord);
    else if (k === "claim" && v && typeof v === "object") {
      const c = v as { base: number; size: number };
      out[k] = { ...c, base: hex(c.base), size: hex(c.size) };
    }
    else out[k] = v;
  }
  return out;
}

function recordJson(r: FaultRecord): Record<string, unknown> {
  switch (r.arch) {
    case "vtd":
      return { arch: r.arch, unit: r.unit, fsts: hex(r.fsts), fri: r.fri, fi: hex(r.fi), sid: formatRid(r.sid), fr: hex(r.fr), type: r.type };
    case "amd":
      return { arch: r.arch, unit: r.unit, code: hex(r.code), devid: formatRid(r.devid), domainId: hex(r.domainId), address: hex(r.address), flags: hex(r.flags), device: r.device?.bdf ?? null };
    case "smmu":
      return { arch: r.arch, unit: r.unit, id: hex(r.id), sid: hex(r.sid), iova: hex(r.iova), access: r.access };
  }
}

function transactionJson(r: CheckedResult): TransactionJson {
  return {
    index: r.index,
    name: r.name ?? null,
    host: r.host,
    from: r.from,
    access: r.access,
    address: hex(r.address),
    size: r.size,
    steps: r.steps.map((s) => ({ ...fields(s), code: s.code, host: s.host, text: formatStep(s) })),
    outcome: { ...fields(r.outcome), kind: r.outcome.kind, host: r.outcome.host, text: formatOutcome(r.outcome) },
    expect: { checked: [...r.checked], failures: [...r.failures] },
  };
}

/** the JSON form of a run; `scenario` names the file */
export function simulationToJson(run: ScenarioRun, scenario: string): SimulateJson {
  const hosts: HostJson[] = run.hosts.map((h) => {
    const m = h.machine;
    return {
      name: h.name,
      kernel: formatKernel(h.kernel),
      iommu: h.arch,
      mode: m && m.arch === "vtd" ? m.mode : null,
      policy: m ? m.policy : null,
      policyText: m ? formatPolicy(m.policy, m.mode) : null,
      logFormat: h.logFormat ?? null,
      bootLog: [...h.bootLog],
      domains: (m?.domains ?? []).map((d) => ({
        name: d.name,
        kind: d.kind,
        mappings: (d.table?.mappings() ?? []).map((x) => ({ iova: hex(x.iova), paddr: hex(x.paddr), size: hex(x.size), perm: PERM_TEXT[x.perm] ?? String(x.perm) })),
      })),
      entries: (m?.entries() ?? []).map(entryToJson),
    };
  });
  const count = (k: Outcome["kind"]): number => run.results.filter((r) => r.outcome.kind === k).length;
  return {
    schema: "iommu-atlas/simulate@1",
    scenario,
    description: run.description ?? null,
    passed: run.passed,
    hosts,
    warnings: run.warnings.map((w) => ({ host: w.host ?? null, message: w.message })),
    missingWarnings: [...run.missingWarnings],
    transactions: run.results.map(transactionJson),
    summary: {
      delivered: count("delivered"),
      faulted: count("faulted"),
      dropped: count("dropped"),
      notIssued: count("not-issued"),
      expectationsChecked: run.results.reduce((n, r) => n + r.checked.length, 0) + run.expectedWarnings.length,
      expectationsFailed: run.results.reduce((n, r) => n + r.failures.length, 0) + run.missingWarnings.length,
    },
  };
}
