import { issueSeverity } from "../issues.js";
import type { Severity } from "../issues.js";
import { formatConfigIssue, formatNote, formatTopologyIssue } from "../messages.js";
import { acsFlagsText, className, functionKindName, hex4, pcieTypeName } from "../names.js";
import { lspciName } from "../pci-ids/names.js";
import type { PciNames } from "../pci-ids/names.js";
import type { Snapshot } from "../sources/snapshot.js";
import { busKey } from "../topology/address.js";
import type { BridgeKind, PciFunction, Topology } from "../topology/model.js";

/** one function as `show --json` and `tree --json` print it (schema iommu-atlas/show@1) */
export interface FunctionJson {
  bdf: string;
  vendor: string;
  device: string;
  subsystem: string | null;
  class: string;
  /** pci.ids' name when a database was given, else the built-in table's */
  className: string;
  /** pci.ids names (null without a database or when it has none); `name` is `Vendor Device` as lspci prints it */
  vendorName: string | null;
  deviceName: string | null;
  name: string | null;
  revision: string | null;
  headerType: number;
  multifunction: boolean;
  kind: string;
  pcie: { type: number; typeName: string; typeRegister: number | null } | null;
  bridge: { kind: BridgeKind; secondary: number | null; subordinate: number | null } | null;
  acs: { state: "absent" | "unknown" } | { state: "present"; cap: string; ctrl: string; flags: string };
  phantomFunctions: number;
  virtfn: { physfn: string; predicted: boolean } | null;
  scanned: boolean;
  driver: string | null;
  kernelGroup: number | null;
  configBytes: number;
  issues: { code: string; severity: Severity; message: string }[];
}

export interface IssueJson {
  code: string;
  severity: Severity;
  message: string;
}

const h2 = (n: number): string => n.toString(16).padStart(2, "0");

export function functionToJson(fn: PciFunction, names?: PciNames): FunctionJson {
  return {
    bdf: fn.bdf,
    vendor: hex4(fn.vendor),
    device: hex4(fn.device),
    subsystem: fn.subsystemVendor === undefined ? null : `${hex4(fn.subsystemVendor)}:${hex4(fn.subsystemDevice)}`,
    class: fn.classCode.toString(16).padStart(6, "0"),
    className: names?.className(fn.classCode) ?? className(fn.classCode),
    vendorName: names?.vendorName(fn.vendor) ?? null,
    deviceName: names?.deviceName(fn.vendor, fn.device) ?? null,
    name: names ? lspciName(names, fn.vendor, fn.device) : null,
    revision: fn.revision === undefined ? null : h2(fn.revision),
    headerType: fn.headerType,
    multifunction: fn.multifunction,
    kind: functionKindName(fn),
    pcie: fn.isPcie ? { type: fn.pcieType, typeName: pcieTypeName(fn.pcieType), typeRegister: fn.pcieTypeRegister ?? null } : null,
    bridge: fn.bridgeKind ? { kind: fn.bridgeKind, secondary: fn.secondary ?? null, subordinate: fn.subordinate ?? null } : null,
    acs:
      fn.acs.state === "present"
        ? { state: "present", cap: hex4(fn.acs.cap), ctrl: hex4(fn.acs.ctrl), flags: acsFlagsText(fn.acs.cap, fn.acs.ctrl) }
        : { state: fn.acs.state },
    phantomFunctions: fn.phantomFunctions,
    virtfn: fn.isVirtfn && fn.physfn ? { physfn: fn.physfn, predicted: fn.predicted } : null,
    scanned: fn.scanned,
    driver: fn.driver ?? null,
    kernelGroup: fn.kernelGroup ?? null,
    configBytes: fn.config?.known ?? 0,
    issues: fn.issues.map((i) => ({ code: i.code, severity: issueSeverity[i.code], message: formatConfigIssue(i) })),
  };
}

export function topologyIssuesToJson(topology: Topology): IssueJson[] {
  return topology.issues.map((i) => ({ code: i.code, severity: issueSeverity[i.code], message: formatTopologyIssue(i) }));
}

export interface SourceJson {
  kind: Snapshot["source"];
  label: string;
  kernel: string | null;
  cmdline: string | null;
  notes: string[];
}

export function sourceToJson(snapshot: Snapshot, label: string): SourceJson {
  return {
    kind: snapshot.source,
    label,
    kernel: snapshot.osrelease ?? null,
    cmdline: snapshot.cmdline ?? null,
    notes: snapshot.notes.map(formatNote),
  };
}

export interface ShowJson {
  schema: "iommu-atlas/show@1";
  source: SourceJson;
  functions: FunctionJson[];
  issues: IssueJson[];
}

/** `show --json`: every function in BDF order */
export function showToJson(snapshot: Snapshot, label: string, names?: PciNames): ShowJson {
  return {
    schema: "iommu-atlas/show@1",
    source: sourceToJson(snapshot, label),
    functions: [...snapshot.topology.functions.values()].map((fn) => functionToJson(fn, names)),
    issues: topologyIssuesToJson(snapshot.topology),
  };
}

export interface BusNodeJson {
  bus: string;
  virtual: boolean;
  functions: (FunctionJson & { children: BusNodeJson[] })[];
}

export interface TreeJson {
  schema: "iommu-atlas/tree@1";
  source: SourceJson;
  roots: BusNodeJson[];
  issues: IssueJson[];
}

/** the bus tree: each bridge carries the bus it creates, VF buses hang below their PF's bus */
export function busTree(topology: Topology, names?: PciNames): BusNodeJson[] {
  const childBuses = new Map<string, string[]>(); // parent bus key → virtual child buses
  for (const b of topology.buses.values()) {
    if (b.virtual && b.parent) childBuses.set(b.parent, [...(childBuses.get(b.parent) ?? []), b.key]);
  }
  const seen = new Set<string>();
  const node = (key: string): BusNodeJson => {
    seen.add(key);
    const bus = topology.buses.get(key)!;
    const functions = bus.functions.map((bdf) => {
      const fn = topology.functions.get(bdf)!;
      const children: BusNodeJson[] = [];
      if (fn.secondary !== undefined) {
        const child = busKey(fn.segment, fn.secondary);
        if (topology.buses.get(child)?.self === fn.bdf && !seen.has(child)) children.push(node(child));
      }
      return { ...functionToJson(fn, names), children };
    });
    const extra = (childBuses.get(key) ?? []).filter((k) => !seen.has(k)).map(node);
    return { bus: key, virtual: bus.virtual, functions: extra.length ? [...functions, ...extra.flatMap((e) => e.functions)] : functions };
  };
  return topology.roots.map(node);
}

export function treeToJson(snapshot: Snapshot, label: string, names?: PciNames): TreeJson {
  return {
    schema: "iommu-atlas/tree@1",
    source: sourceToJson(snapshot, label),
    roots: busTree(snapshot.topology, names),
    issues: topologyIssuesToJson(snapshot.topology),
  };
}
