/**
 * Which function goes where: selectors resolved against the machine (with
 * the plan's VFs in it). A more specific selector wins (BDF over
 * vendor:device over class); two places at the same specificity are a
 * contradiction in the plan.
 */
import { PCI_HEADER_TYPE_NORMAL } from "../regs/header.js";
import type { PciFunction, Topology } from "../topology/model.js";
import { conflictingPlacesMessage, noFunctionMessage, noMatchMessage } from "./messages.js";
import { HOST } from "./plan.js";
import type { DeviceEntry, Plan, PlanProblem } from "./plan.js";
import { SPECIFICITY, selectorMatches } from "./select.js";
import { potentialVfRids } from "./sriov.js";

export interface Placement {
  /** a guest's name, or "host" for the plan's host list */
  readonly domain: string;
  readonly entry: DeviceEntry;
}

export interface Resolution {
  /** functions that go to a guest (bridges excluded), by BDF */
  readonly guestOf: ReadonlyMap<string, string>;
  /** functions the plan keeps with the host explicitly */
  readonly hostListed: ReadonlySet<string>;
  /** the entry that placed each function */
  readonly placement: ReadonlyMap<string, Placement>;
  /** the driver each placed function should end up with; absent: keep the current one */
  readonly wanted: ReadonlyMap<string, string>;
  /** bridges a guest listed: a port or bridge is never handed to a guest */
  readonly bridgesListed: readonly { readonly bdf: string; readonly guest: string; readonly entry: DeviceEntry }[];
}

export type ResolveResult = { readonly ok: true; readonly resolution: Resolution } | { readonly ok: false; readonly problems: readonly PlanProblem[] };

/** a bridge or CardBus bridge: VFIO never takes one, it only has to stand aside */
export const isBridge = (fn: PciFunction): boolean => fn.headerType !== PCI_HEADER_TYPE_NORMAL;

export function resolvePlan(plan: Plan, topology: Topology, label: string): ResolveResult {
  const problems: PlanProblem[] = [];
  const functions = [...topology.functions.values()];
  const vfSlots = potentialVfRids(topology);
  const candidates = new Map<string, { domain: string; entry: DeviceEntry; driver: string | undefined }[]>();

  const place = (entry: DeviceEntry, domain: string, driver: string | undefined): void => {
    const matched = functions.filter((f) => selectorMatches(entry.selector, f));
    if (matched.length === 0) {
      const message = entry.selector.kind === "bdf" ? noFunctionMessage(entry.selector.bdf, label, vfSlots.get(entry.selector.bdf)) : noMatchMessage(entry.text, label);
      problems.push({ line: entry.line, path: entry.path, message });
      return;
    }
    for (const f of matched) {
      const list = candidates.get(f.bdf) ?? [];
      list.push({ domain, entry, driver });
      candidates.set(f.bdf, list);
    }
  };
  for (const g of plan.guests) for (const d of g.devices) place(d, g.name, d.driver ?? g.driver);
  for (const d of plan.host) place(d, HOST, d.driver);

  const guestOf = new Map<string, string>();
  const hostListed = new Set<string>();
  const placement = new Map<string, Placement>();
  const wanted = new Map<string, string>();
  const bridgesListed: { bdf: string; guest: string; entry: DeviceEntry }[] = [];
  for (const [bdf, list] of [...candidates].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const best = Math.max(...list.map((c) => SPECIFICITY[c.entry.selector.kind]));
    const top = list.filter((c) => SPECIFICITY[c.entry.selector.kind] === best);
    const other = top.find((c) => c.domain !== top[0]!.domain);
    if (other) {
      problems.push({ line: other.entry.line, path: other.entry.path, message: conflictingPlacesMessage(bdf, top[0]!, other) });
      continue;
    }
    const chosen = top[0]!;
    const fn = topology.functions.get(bdf)!;
    placement.set(bdf, { domain: chosen.domain, entry: chosen.entry });
    if (chosen.domain === HOST) {
      hostListed.add(bdf);
      if (chosen.driver !== undefined) wanted.set(bdf, chosen.driver);
    } else if (isBridge(fn)) {
      bridgesListed.push({ bdf, guest: chosen.domain, entry: chosen.entry });
    } else {
      guestOf.set(bdf, chosen.domain);
      if (chosen.driver !== undefined) wanted.set(bdf, chosen.driver);
    }
  }
  // a problem at the line it was written, in file order
  problems.sort((a, b) => a.line - b.line);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, resolution: { guestOf, hostListed, placement, wanted, bridgesListed } };
}
