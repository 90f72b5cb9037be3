import type { KernelVersion } from "../kernel/version.js";
import { compareKernel, parseKernelVersion } from "../kernel/version.js";
import { busKey } from "../topology/address.js";
import type { PciFunction, Topology } from "../topology/model.js";
import type { IdRange, IdSet, QuirkMatch, QuirkRow } from "./row.js";

/** the identity fields a row is matched against */
export type QuirkSubject = Pick<PciFunction, "vendor" | "device" | "subsystemVendor" | "subsystemDevice" | "classCode">;

const isRange = (v: unknown): v is IdRange => typeof v === "object" && v !== null && "from" in v;

/** true when `id` is one of the ids or inside one of the ranges */
export function inIdSet(id: number, set: IdSet): boolean {
  return set.some((e) => (typeof e === "number" ? e === id : id >= e.from && id <= e.to));
}

function deviceMatches(spec: QuirkMatch["device"], device: number): boolean {
  if (spec === "any") return true;
  if (typeof spec === "number") return spec === device;
  if (isRange(spec)) return device >= spec.from && device <= spec.to;
  return spec.includes(device);
}

/**
 * The one matcher: vendor (or any), device (id, list, range or any), and the
 * optional subsystem ids and masked class. A missing subsystem id on the
 * function never matches a row that names one.
 */
export function matchesRow(fn: QuirkSubject, row: Pick<QuirkRow, "match">): boolean {
  const m = row.match;
  if (m.vendor !== "any" && m.vendor !== fn.vendor) return false;
  if (!deviceMatches(m.device, fn.device)) return false;
  if (m.subsystemVendor !== undefined && m.subsystemVendor !== fn.subsystemVendor) return false;
  if (m.subsystemDevice !== undefined && m.subsystemDevice !== fn.subsystemDevice) return false;
  if (m.classCode !== undefined) {
    const mask = m.classMask ?? 0xffffff;
    if ((fn.classCode & mask) !== (m.classCode & mask)) return false;
  }
  return true;
}

/**
 * The rows that can match a vendor id, in table order: rows naming that
 * vendor and rows for any vendor. Lists are made on first use per vendor.
 */
export function rowsByVendor<R extends Pick<QuirkRow, "match">>(rows: readonly R[]): (vendor: number) => readonly R[] {
  const byVendor = new Map<number, readonly R[]>();
  return (vendor) => {
    let list = byVendor.get(vendor);
    if (list === undefined) {
      list = rows.filter((r) => r.match.vendor === "any" || r.match.vendor === vendor);
      byVendor.set(vendor, list);
    }
    return list;
  };
}

/** options shared by both appliers for gating rows on the kernel release */
export interface RowGate {
  /** the running kernel; undefined = current mainline behaviour */
  readonly kernel?: KernelVersion | undefined;
  /** let rows whose `since` is "unknown" (unmerged proposals) fire */
  readonly includeProposed?: boolean | undefined;
}

const bounds = new Map<string, KernelVersion | undefined>();

// "≈4.16" → 4.16; "unknown" or junk → undefined (rows are few, their bounds parsed once)
function parseBound(text: string): KernelVersion | undefined {
  if (bounds.has(text)) return bounds.get(text);
  const v = parseKernelVersion(text.replace(/^[≈~]\s*/, ""));
  bounds.set(text, v);
  return v;
}

/**
 * Whether a row is in effect. No kernel given: every row without an `until`
 * whose `since` is known. A kernel given: `since <= kernel < until`. Rows
 * with `since: "unknown"` only with `includeProposed`.
 */
export function rowActive(row: Pick<QuirkRow, "kernels">, gate: RowGate = {}): boolean {
  const k = row.kernels;
  if (!k) return true;
  if (k.since !== undefined) {
    const since = parseBound(k.since);
    if (!since) return gate.includeProposed === true;
    if (gate.kernel && compareKernel(gate.kernel, since) < 0) return false;
  }
  if (k.until !== undefined) {
    const until = parseBound(k.until);
    // an unparsable end is treated as already past
    if (!gate.kernel || !until) return false;
    if (compareKernel(gate.kernel, until) >= 0) return false;
  }
  return true;
}

/** pci_is_root_bus: the function's bus has no parent (an unknown bus counts as root) */
export function onRootBus(topology: Topology, fn: Pick<PciFunction, "segment" | "bus">): boolean {
  return topology.buses.get(busKey(fn.segment, fn.bus))?.parent === undefined;
}
