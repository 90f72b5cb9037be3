/**
 * A normalized view of a snapshot's topology: the fields that decide DMA
 * aliases and IOMMU groups, as plain data, so readers of different formats
 * can be compared with one deep equality.
 */
import type { Snapshot } from "../sources/snapshot.js";
import type { AcsState } from "../topology/model.js";

/** ACS registers as lspci prints them: seven flags, SV..DT */
const ACS_PRINTED = 0x7f;

export interface ProjectOptions {
  /** keep kernel group numbers (sources that carry them) */
  readonly groups?: boolean;
  /** keep subsystem ids and topology issues (sources with raw config bytes) */
  readonly detail?: boolean;
  /**
   * text without hex bytes cannot show function 0's multi-function bit when
   * no sibling is listed: project such a bit as off on both sides
   */
  readonly loneFunctionZero?: boolean;
}

function acsView(acs: AcsState): unknown {
  return acs.state === "present" ? { state: "present", offset: acs.offset, cap: acs.cap & ACS_PRINTED, ctrl: acs.ctrl & ACS_PRINTED } : { state: acs.state };
}

export function projectSnapshot(snapshot: Snapshot, opts: ProjectOptions = {}): unknown {
  const t = snapshot.topology;
  const slots = new Map<string, number>();
  const slotKey = (bdf: string): string => bdf.slice(0, -2);
  for (const bdf of t.functions.keys()) slots.set(slotKey(bdf), (slots.get(slotKey(bdf)) ?? 0) + 1);
  const lone = (bdf: string): boolean => opts.loneFunctionZero === true && bdf.endsWith(".0") && slots.get(slotKey(bdf)) === 1;
  const functions = [...t.functions.values()].map((f) => ({
    bdf: f.bdf,
    vendor: f.vendor,
    device: f.device,
    classCode: f.classCode,
    revision: f.revision ?? 0,
    headerType: f.headerType,
    multifunction: f.multifunction && !lone(f.bdf),
    isPcie: f.isPcie,
    pcieType: f.pcieType,
    bridgeKind: f.bridgeKind ?? null,
    secondary: f.secondary ?? null,
    subordinate: f.subordinate ?? null,
    acs: acsView(f.acs),
    phantomFunctions: f.phantomFunctions,
    isVirtfn: f.isVirtfn,
    scanned: f.scanned,
    upstream: f.upstream ?? null,
    ...(opts.groups ? { kernelGroup: f.kernelGroup ?? null } : {}),
    ...(opts.detail ? { subsystem: [f.subsystemVendor ?? null, f.subsystemDevice ?? null] } : {}),
  }));
  return {
    functions,
    roots: t.roots,
    scanOrder: t.scanOrder,
    buses: [...t.buses.values()].map((b) => ({ key: b.key, self: b.self ?? null, parent: b.parent ?? null })).sort((a, b) => (a.key < b.key ? -1 : 1)),
    ...(opts.groups ? { kernelGroups: snapshot.kernelGroups ? [...snapshot.kernelGroups.entries()].map(([id, m]) => [id, [...m].sort()]) : null } : {}),
    ...(opts.detail ? { issues: t.issues.map((i) => i.code).sort() } : {}),
  };
}
