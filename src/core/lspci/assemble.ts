/**
 * FunctionRecords → DecodedConfig + FunctionInput → Snapshot: resolves `-P`
 * paths, merges dumps, fills bridge buses from trees, infers what the text
 * implies (multi-function bit) and marks what it leaves unknown.
 */
import type { Capability } from "../caps/index.js";
import { decodeConfig, namedCapabilities } from "../config/decode.js";
import type { DecodedConfig } from "../config/decode.js";
import type { ConfigIssue } from "../issues.js";
import {
  PCI_EXP_DEVCAP_EXT_TAG,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXP_DEVCAP_PAYLOAD,
  PCI_EXP_DEVCAP_PHANTOM,
} from "../regs/express.js";
import {
  PCI_CFG_SPACE_EXP_SIZE,
  PCI_CFG_SPACE_SIZE,
  PCI_CFG_SPACE_USER,
  PCI_CLASS_BRIDGE_PCI,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_BRIDGE,
  PCI_HEADER_TYPE_CARDBUS,
  PCI_HEADER_TYPE_MASK,
  PCI_HEADER_TYPE_MFD,
  PCI_HEADER_TYPE_NORMAL,
  PCI_PRIMARY_BUS,
  PCI_SECONDARY_BUS,
  PCI_SUBORDINATE_BUS,
} from "../regs/header.js";
import type { Snapshot, SnapshotNote } from "../sources/snapshot.js";
import { devId, formatBdf, funcOf, slotOf } from "../topology/address.js";
import { buildTopology } from "../topology/build.js";
import type { FunctionInput } from "../topology/build.js";
import { parseAddress } from "./device-line.js";
import { newRecord } from "./record.js";
import type { CapFacts, FunctionRecord, TreeNode } from "./record.js";
import type { Dump, ScanResult } from "./scan.js";
import type { LspciWarning } from "./warnings.js";

/** DevCap bit 15: role-based error reporting (PCIe Base 6.0 §7.5.3.3) */
const PCI_EXP_DEVCAP_RBE = 0x00008000;
/** class 0609: semi-transparent PCI-to-PCI bridge, also a type 1 header */
const PCI_CLASS_BRIDGE_PCI_SEMI = 0x0609;
const PCI_CLASS_BRIDGE_CARDBUS = 0x0607;
/** header bytes needed to read the type and bus numbers from a hex dump */
const HEADER_BYTES = 0x1b;
const EMPTY = new Uint8Array(0);

export type LspciFormat = "hex" | "verbose" | "tree" | "mixed";

export interface Assembled {
  readonly snapshot: Snapshot;
  readonly format: LspciFormat;
  readonly dumps: number;
  readonly warnings: LspciWarning[];
}

const bdfOf = (r: { segment: number; bus: number | undefined; devfn: number }): string => formatBdf(r.segment, r.bus ?? 0, r.devfn);

/** lspci prints `PhantFunc (1 << field) - 1`; back to the DevCap field */
function phantomField(count: number | undefined): number {
  if (count === undefined || count <= 0) return 0;
  return Math.min(3, Math.round(Math.log2(count + 1)));
}

function unknownCap(f: CapFacts, truncated: boolean): Capability {
  return { space: f.space, offset: f.offset, id: f.id, kind: "unknown", truncated };
}

/** the Capability record a block's facts allow; "unknown" (truncated) when the registers that matter are missing */
function toCapability(f: CapFacts): Capability {
  switch (f.kind) {
    case "express": {
      if (f.type === undefined) return unknownCap(f, true);
      const field = phantomField(f.phantomCount);
      const devCap =
        ((f.maxPayload ?? 0) & PCI_EXP_DEVCAP_PAYLOAD) |
        ((field << 3) & PCI_EXP_DEVCAP_PHANTOM) |
        (f.extTag ? PCI_EXP_DEVCAP_EXT_TAG : 0) |
        (f.rbe ? PCI_EXP_DEVCAP_RBE : 0) |
        (f.flr ? PCI_EXP_DEVCAP_FLR : 0);
      return {
        space: f.space,
        offset: f.offset,
        id: f.id,
        kind: "express",
        version: f.version ?? 0,
        type: f.type,
        slotImplemented: f.slot ?? false,
        devCap: devCap >>> 0,
        phantomFunctions: field,
        phantomEnabled: f.phantomEnabled,
        flr: f.flr ?? false,
        physicalSlot: f.slot ? f.physicalSlot : undefined,
        ariForwardingSupported: f.ariFwdCap,
        ariForwardingEnabled: f.ariFwdCtl,
        linkSpeed: f.linkSpeed,
        linkWidth: f.linkWidth,
      };
    }
    case "acs":
      if (f.acsCap === undefined || f.acsCtl === undefined) return unknownCap(f, true);
      return { space: f.space, offset: f.offset, id: f.id, kind: "acs", cap: f.acsCap, ctrl: f.acsCtl, egressVectorBits: 0 };
    case "ari":
      if (f.nextFunction === undefined) return unknownCap(f, true);
      return { space: f.space, offset: f.offset, id: f.id, kind: "ari", nextFunction: f.nextFunction };
    case "sriov":
      if (f.numVFs === undefined || f.vfOffset === undefined || f.vfStride === undefined || f.vfDevice === undefined) return unknownCap(f, true);
      return {
        space: f.space,
        offset: f.offset,
        id: f.id,
        kind: "sriov",
        vfEnable: f.vfEnable ?? false,
        ariCapableHierarchy: f.ariHierarchy ?? false,
        initialVFs: f.initialVFs ?? 0,
        totalVFs: f.totalVFs ?? 0,
        numVFs: f.numVFs,
        firstVfOffset: f.vfOffset,
        vfStride: f.vfStride,
        vfDeviceId: f.vfDevice,
      };
    case "pm":
      if (f.pmVersion === undefined) return unknownCap(f, true);
      return { space: f.space, offset: f.offset, id: f.id, kind: "pm", version: f.pmVersion, powerState: f.powerState ?? 0 };
    case "msi":
      if (f.enabled === undefined) return unknownCap(f, true);
      return { space: f.space, offset: f.offset, id: f.id, kind: "msi", enabled: f.enabled, maxVectors: f.vectors ?? 1, address64: f.address64 ?? false, perVectorMask: f.maskable ?? false };
    case "msix":
      if (f.enabled === undefined || f.vectors === undefined) return unknownCap(f, true);
      return { space: f.space, offset: f.offset, id: f.id, kind: "msix", enabled: f.enabled, tableSize: f.vectors, tableBar: f.tableBar ?? 0, tableOffset: f.tableOffset ?? 0 };
    case "dsn":
      if (f.serial === undefined) return unknownCap(f, true);
      return { space: f.space, offset: f.offset, id: f.id, kind: "dsn", serial: f.serial };
    case "vendor":
      if (f.length === undefined) return unknownCap(f, true);
      if (f.vsecId === undefined) return { space: f.space, offset: f.offset, id: f.id, kind: "vendor", length: f.length };
      return { space: f.space, offset: f.offset, id: f.id, kind: "vendor", length: f.length, vsecId: f.vsecId };
    default:
      return unknownCap(f, false);
  }
}

/** what made a synthetic config less than complete, for warnings */
interface Gaps {
  registersNotShown: boolean;
  extendedNotShown: boolean;
  cut: "acs" | "sriov" | "express" | undefined;
  cutLine: number;
  endCut: boolean;
}

/**
 * The config a verbose record describes. `bytes` holds only real hex bytes
 * (none for pure text): registers lspci decoded are not turned back into bytes.
 */
function verboseConfig(
  r: FunctionRecord,
  dump: Dump | undefined,
  lastOfDump: boolean,
  multifunctionBit: boolean,
  gaps: Gaps,
): { config: DecodedConfig; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const hexHeader = r.hex !== undefined && r.hexKnown >= HEADER_BYTES ? r.hex : undefined;
  const classBase = r.classBase;
  const cardbus = r.cardbus === true || classBase === PCI_CLASS_BRIDGE_CARDBUS;
  let headerType: number;
  if (r.unknownHeaderType !== undefined) headerType = r.unknownHeaderType & PCI_HEADER_TYPE_MASK;
  else if (hexHeader) headerType = hexHeader[PCI_HEADER_TYPE]! & PCI_HEADER_TYPE_MASK;
  else if (r.bridge) headerType = cardbus ? PCI_HEADER_TYPE_CARDBUS : PCI_HEADER_TYPE_BRIDGE;
  else if (r.level === 0 && (classBase === PCI_CLASS_BRIDGE_PCI || classBase === PCI_CLASS_BRIDGE_PCI_SEMI)) headerType = PCI_HEADER_TYPE_BRIDGE;
  else if (r.level === 0 && cardbus) headerType = PCI_HEADER_TYPE_CARDBUS;
  else headerType = PCI_HEADER_TYPE_NORMAL;
  if (headerType > PCI_HEADER_TYPE_CARDBUS) issues.push({ code: "header-type-unknown", offset: PCI_HEADER_TYPE, headerType });
  let bridge = r.bridge;
  if (!bridge && hexHeader && (headerType === PCI_HEADER_TYPE_BRIDGE || headerType === PCI_HEADER_TYPE_CARDBUS)) {
    bridge = { primary: hexHeader[PCI_PRIMARY_BUS]!, secondary: hexHeader[PCI_SECONDARY_BUS]!, subordinate: hexHeader[PCI_SUBORDINATE_BUS]! };
  }
  if (headerType !== PCI_HEADER_TYPE_BRIDGE && headerType !== PCI_HEADER_TYPE_CARDBUS) bridge = undefined;

  const capabilities = r.caps.map(toCapability);
  // blocks whose registers lspci prints with -vv: their absence or a cut leaves them unknown
  let shown = 0;
  let cut: CapFacts | undefined;
  for (let i = 0; i < r.caps.length; i++) {
    const f = r.caps[i]!;
    if (f.kind !== "acs" && f.kind !== "ari" && f.kind !== "sriov") continue;
    shown++;
    if (cut === undefined && f.kind !== "ari" && capabilities[i]!.kind === "unknown") cut = f;
  }
  // an Express header cut before its type: PCIe, but of unknown kind
  const cutExpress = r.caps.find((f, i) => f.kind === "express" && capabilities[i]!.kind === "unknown");
  // `Status: Cap+` and no capability line: a zero pointer, unless the text ends inside this block
  const cutBlock = r.capList === true && r.caps.length === 0 && !r.capsDenied && lastOfDump;
  const capabilitiesKnown = r.form === "text" && r.level >= 1 && !r.capsDenied && !cutBlock;
  const { express } = namedCapabilities(capabilities);
  let extendedKnown = capabilitiesKnown;
  if (capabilitiesKnown && cutExpress) {
    extendedKnown = false;
    gaps.cut = "express";
    gaps.cutLine = cutExpress.line;
  } else if (capabilitiesKnown && express) {
    if (dump && !dump.extendedSeen) {
      extendedKnown = false;
      gaps.extendedNotShown = true;
    } else if (r.level < 2 && shown > 0) {
      extendedKnown = false;
      gaps.registersNotShown = true;
    } else if (cut && (cut.kind === "acs" || cut.kind === "sriov")) {
      extendedKnown = false;
      gaps.cut = cut.kind;
      gaps.cutLine = cut.line;
    } else if (lastOfDump && !r.ended && r.form === "text" && !namedCapabilities(capabilities).acs) {
      // the text stops inside this block: an ACS capability may have followed
      extendedKnown = false;
      gaps.endCut = true;
    }
  }
  if (r.capsDenied) issues.push({ code: "config-short", known: r.hexKnown > 0 ? r.hexKnown : PCI_CFG_SPACE_USER });
  const known = r.hex ? r.hexKnown : 0;
  const config: DecodedConfig = {
    bytes: r.hex ? r.hex.subarray(0, known) : EMPTY,
    known,
    vendor: r.vendor ?? 0xffff,
    device: r.device ?? 0xffff,
    classCode: classBase === undefined ? 0 : (classBase << 8) | (r.progIf ?? 0),
    revision: r.revision ?? 0,
    headerType,
    multifunctionBit: hexHeader ? (hexHeader[PCI_HEADER_TYPE]! & PCI_HEADER_TYPE_MFD) !== 0 : multifunctionBit,
    subsystemVendor: headerType === PCI_HEADER_TYPE_NORMAL || headerType === PCI_HEADER_TYPE_CARDBUS ? r.subsystemVendor : undefined,
    subsystemDevice: headerType === PCI_HEADER_TYPE_NORMAL || headerType === PCI_HEADER_TYPE_CARDBUS ? r.subsystemDevice : undefined,
    bridge,
    capabilities,
    capabilitiesKnown,
    extendedKnown,
    ...namedCapabilities(capabilities),
    express,
    issues,
  };
  return { config, issues };
}

/** hex bytes decide the config: a dump of at least 256 bytes, or nothing better beside it */
function usesHex(r: FunctionRecord): boolean {
  const known = r.hex ? r.hexKnown : 0;
  if (known < 16) return false;
  return known >= PCI_CFG_SPACE_SIZE || r.level === 0 || r.capsDenied;
}

function hexConfig(r: FunctionRecord, dump: Dump | undefined): { config: DecodedConfig | undefined; issues: ConfigIssue[] } {
  const known = r.hexKnown;
  // a 256-byte function in a dump where others gave 4096 is one whose config space is 256 bytes (-xxxx)
  const complete = known === PCI_CFG_SPACE_EXP_SIZE || (known === PCI_CFG_SPACE_SIZE && dump !== undefined && dump.hexMax === PCI_CFG_SPACE_EXP_SIZE);
  return decodeConfig(r.hex!.subarray(0, known), { known, complete });
}

function score(r: FunctionRecord): number {
  const known = r.hex ? r.hexKnown : 0;
  return (known >= PCI_CFG_SPACE_SIZE ? 10000 + known : known) + r.level * 100 - (r.capsDenied ? 150 : 0) + (r.form === "tree" ? -1000 : 0);
}

type Fill = "vendor" | "device" | "classBase" | "progIf" | "revision" | "subsystemVendor" | "subsystemDevice" | "driver" | "group";
const FILLS: readonly Fill[] = ["vendor", "device", "classBase", "progIf", "revision", "subsystemVendor", "subsystemDevice", "driver", "group"];

function treeRecord(n: TreeNode, dump: number): FunctionRecord {
  const r = newRecord(n.line, dump, n.segment, n.bus, n.devfn, "tree");
  r.vendor = n.vendor;
  r.device = n.device;
  return r;
}

export function assemble(scan: ScanResult): Assembled {
  const warnings: LspciWarning[] = [];
  const dumps = scan.dumps;

  // every tree, keyed by BDF (the first tree that shows a function wins)
  const tree = new Map<string, TreeNode>();
  for (const d of dumps) for (const n of d.trees) if (!tree.has(bdfOf(n))) tree.set(bdfOf(n), n);

  for (const d of dumps) resolvePaths(d, tree, warnings);

  // merge dumps by BDF
  const merged = new Map<string, FunctionRecord>();
  const order: string[] = [];
  const byBdf = new Map<string, FunctionRecord[]>();
  for (const d of dumps) {
    for (const r of d.records) {
      const key = bdfOf(r);
      const list = byBdf.get(key);
      if (list) list.push(r);
      else {
        byBdf.set(key, [r]);
        order.push(key);
      }
    }
  }
  for (const key of order) {
    const list = byBdf.get(key)!;
    let best = list[0]!;
    for (const r of list) if (score(r) > score(best)) best = r;
    const m: FunctionRecord = list.length === 1 ? best : { ...best };
    for (const r of list) {
      if (r === best) continue;
      for (const f of FILLS) {
        const mine = m[f];
        const theirs = r[f];
        if (theirs === undefined) continue;
        if (mine === undefined) (m as unknown as Record<Fill, unknown>)[f] = theirs;
        else if (mine !== theirs && (f === "vendor" || f === "device" || f === "classBase")) {
          warnings.push({ code: "dumps-disagree", bdf: key, field: f === "classBase" ? "class" : f, lines: [best.line, r.line] });
        }
      }
      if (!m.bridge && r.bridge) {
        m.bridge = r.bridge;
        if (r.bridgeFrom) m.bridgeFrom = r.bridgeFrom;
      } else if (m.bridge && r.bridge && m.bridgeFrom === undefined && r.bridgeFrom === undefined && m.bridge.secondary !== r.bridge.secondary) {
        warnings.push({ code: "dumps-disagree", bdf: key, field: "bus-numbers", lines: [best.line, r.line] });
      }
      if (!m.hex && r.hex && r.hexKnown >= HEADER_BYTES) {
        m.hex = r.hex;
        m.hexKnown = r.hexKnown;
      }
    }
    merged.set(key, m);
  }

  // trees fill bridge buses and add functions no device line showed
  for (const [key, n] of tree) {
    const m = merged.get(key);
    if (!m) {
      merged.set(key, treeRecord(n, dumps.findIndex((d) => d.trees.includes(n))));
      order.push(key);
      continue;
    }
    if (n.vendor !== undefined && m.vendor === undefined) m.vendor = n.vendor;
    if (n.device !== undefined && m.device === undefined) m.device = n.device;
    if (n.secondary === undefined) continue;
    if (!m.bridge || (m.bridgeFrom === "guess")) {
      m.bridge = { primary: n.bus, secondary: n.secondary, subordinate: n.subordinate ?? n.secondary };
      m.bridgeFrom = "tree";
    } else if (m.bridge.secondary !== n.secondary || m.bridge.subordinate !== (n.subordinate ?? n.secondary)) {
      if (m.bridgeFrom === undefined) warnings.push({ code: "tree-disagrees", bdf: key, line: n.line });
    }
  }
  for (const [key, n] of tree) {
    const m = merged.get(key)!;
    if (m.form === "tree" && n.secondary !== undefined) m.bridge = { primary: n.bus, secondary: n.secondary, subordinate: n.subordinate ?? n.secondary };
  }

  const records = order.map((k) => merged.get(k)!);

  // VFs of listed PFs (SR-IOV numbers) do not make their slot multi-function
  const vfKeys = new Set<string>();
  for (const r of records) {
    const iov = r.caps.find((c) => c.kind === "sriov");
    if (!iov || !iov.numVFs || iov.vfOffset === undefined || iov.vfStride === undefined) continue;
    const pf = devId(r.bus ?? 0, r.devfn);
    for (let i = 0; i < iov.numVFs; i++) {
      const rid = pf + iov.vfOffset + i * iov.vfStride;
      if (rid > 0xffff) break;
      vfKeys.add(formatBdf(r.segment, rid >> 8, rid & 0xff));
    }
  }
  const slotsWithSiblings = new Set<string>();
  for (const r of records) {
    const key = bdfOf(r);
    if (funcOf(r.devfn) !== 0 && !vfKeys.has(key)) slotsWithSiblings.add(`${r.segment}:${r.bus}:${slotOf(r.devfn)}`);
  }

  const inputs: FunctionInput[] = [];
  const inferredMf: string[] = [];
  const denied: string[] = [];
  const notShown: string[] = [];
  const registersNotShown: string[] = [];
  const idsUnknown: string[] = [];
  const bridgesUnknown: string[] = [];
  const extendedGaps = new Map<number, number>();
  const groups = new Map<number, string[]>();
  for (const r of records) {
    const bdf = bdfOf(r);
    const dump = dumps[r.dump];
    let config: DecodedConfig | undefined;
    let issues: ConfigIssue[];
    if (usesHex(r)) {
      ({ config, issues } = hexConfig(r, dump));
      if (config && r.level >= 1 && !config.extendedKnown && config.capabilitiesKnown && config.express) {
        // `-vvxxx`: the bytes stop at 256, the text goes on with the extended capabilities
        const gaps: Gaps = { registersNotShown: false, extendedNotShown: false, cut: undefined, cutLine: 0, endCut: false };
        const text = verboseConfig(r, dump, false, config.multifunctionBit, gaps).config;
        const capabilities = [...config.capabilities, ...text.capabilities.filter((c) => c.space === "extended")];
        config = {
          ...config,
          capabilities,
          extendedKnown: text.extendedKnown,
          ...namedCapabilities(capabilities),
          express: config.express,
        };
        if (gaps.cut) warnings.push({ code: "registers-cut", bdf, line: gaps.cutLine, capability: gaps.cut });
      }
    } else {
      const mfInferred = funcOf(r.devfn) === 0 && slotsWithSiblings.has(`${r.segment}:${r.bus}:${slotOf(r.devfn)}`);
      const gaps: Gaps = { registersNotShown: false, extendedNotShown: false, cut: undefined, cutLine: 0, endCut: false };
      const last = dump?.records[dump.records.length - 1];
      const lastOfDump = last !== undefined && last.line === r.line;
      ({ config, issues } = verboseConfig(r, dump, lastOfDump, mfInferred, gaps));
      if (mfInferred && !(r.hex && r.hexKnown >= HEADER_BYTES)) inferredMf.push(bdf);
      if (gaps.registersNotShown) registersNotShown.push(bdf);
      if (gaps.extendedNotShown) extendedGaps.set(r.dump, (extendedGaps.get(r.dump) ?? 0) + 1);
      if (gaps.cut) warnings.push({ code: "registers-cut", bdf, line: gaps.cutLine, capability: gaps.cut });
      if (gaps.endCut) warnings.push({ code: "text-ends-in-block", bdf, line: r.line });
      if (r.capsDenied) denied.push(bdf);
      else if (!config.capabilitiesKnown) notShown.push(bdf);
      if (r.vendor === undefined && config.vendor === 0xffff) idsUnknown.push(bdf);
      if (r.classBase === undefined && r.form !== "tree") warnings.push({ code: "class-unknown", bdf, line: r.line, text: r.classText ?? "" });
      if (config.headerType === PCI_HEADER_TYPE_BRIDGE && !config.bridge) bridgesUnknown.push(bdf);
    }
    if (r.hexGapAt !== undefined) warnings.push({ code: "hex-gap", bdf, line: r.line, offset: r.hexGapAt });
    if (r.group !== undefined) {
      const g = groups.get(r.group) ?? [];
      g.push(bdf);
      groups.set(r.group, g);
    }
    // with hex bytes, a class read back from its printed name (no `[cccc]`) yields to the bytes
    const classCode =
      r.classBase === undefined || (r.classByName === true && usesHex(r)) ? undefined : (r.classBase << 8) | (r.progIf ?? (config ? config.classCode & 0xff : 0));
    inputs.push({
      segment: r.segment,
      bus: r.bus ?? 0,
      devfn: r.devfn,
      config,
      configIssues: issues,
      ids: {
        vendor: r.vendor,
        device: r.device,
        subsystemVendor: r.subsystemVendor,
        subsystemDevice: r.subsystemDevice,
        classCode,
        revision: r.revision,
      },
      driver: r.driver,
      kernelGroup: r.group,
    });
  }

  if (dumps.length > 1) warnings.unshift({ code: "several-dumps", dumps: dumps.length, lines: dumps.map((d) => d.firstLine) });
  if (scan.skipped > 0) warnings.push({ code: "text-skipped", lines: scan.skipped, first: scan.firstSkipped });
  if (denied.length > 0) warnings.push({ code: "capabilities-denied", functions: denied.length, first: denied[0]! });
  if (notShown.length > 0) warnings.push({ code: "capabilities-not-shown", functions: notShown.length, first: notShown[0]! });
  if (registersNotShown.length > 0) warnings.push({ code: "registers-not-shown", functions: registersNotShown.length, first: registersNotShown[0]! });
  for (const [dump, functions] of extendedGaps) warnings.push({ code: "extended-not-shown", dump, functions });
  if (idsUnknown.length > 0) warnings.push({ code: "ids-unknown", functions: idsUnknown.length, first: idsUnknown[0]! });
  if (bridgesUnknown.length > 0) warnings.push({ code: "bridge-buses-unknown", bdfs: bridgesUnknown });
  if (inferredMf.length > 0) warnings.push({ code: "multifunction-inferred", bdfs: inferredMf });

  const notes: SnapshotNote[] = [];
  if (inputs.length === 0) notes.push({ code: "no-pci-devices" });
  if (denied.length > 0) notes.push({ code: "config-unprivileged", functions: denied.length });
  if (groups.size === 0) notes.push({ code: "no-iommu-groups" });
  const kernelGroups =
    groups.size === 0
      ? undefined
      : new Map([...groups.entries()].sort((a, b) => a[0] - b[0]).map(([id, members]) => [id, members.sort()] as const));

  const hasHex = records.some((r) => r.hexKnown > 0);
  const hasText = records.some((r) => r.form !== "tree" && (r.level > 0 || r.hexKnown === 0));
  const hasTree = tree.size > 0;
  const kinds = [hasHex, hasText, hasTree].filter(Boolean).length;
  const format: LspciFormat = kinds > 1 ? "mixed" : hasHex ? "hex" : hasTree ? "tree" : "verbose";

  return {
    snapshot: {
      source: "lspci",
      topology: buildTopology(inputs, { kernelView: true }),
      kernelGroups,
      cmdline: undefined,
      osrelease: undefined,
      acpi: {},
      notes,
    },
    format,
    dumps: dumps.length,
    warnings,
  };
}

/**
 * `-P`/`-PP` paths: an element's bus is its parent bridge's secondary bus.
 * With `-PP` the child's bus tells the parent's secondary; with `-P` the
 * parent's `Bus:` line or a tree tells it, else the lowest free number is used.
 */
function resolvePaths(d: Dump, tree: ReadonlyMap<string, TreeNode>, warnings: LspciWarning[]): void {
  const pathed = d.records.filter((r) => r.path !== undefined);
  if (pathed.length === 0) return;
  const byPath = new Map<string, FunctionRecord>();
  const byAddress = new Map<string, FunctionRecord>();
  for (const r of d.records) {
    if (r.path !== undefined) byPath.set(r.path, r);
    else if (r.bus !== undefined) byAddress.set(bdfOf(r), r);
  }
  const used = new Set<string>();
  const mark = (segment: number, bus: number): void => void used.add(`${segment}:${bus}`);
  for (const r of d.records) {
    if (r.bus !== undefined) mark(r.segment, r.bus);
    if (r.bridge) mark(r.segment, r.bridge.secondary);
  }
  for (const n of tree.values()) {
    mark(n.segment, n.bus);
    if (n.secondary !== undefined) mark(n.segment, n.secondary);
  }
  const parentOf = (r: FunctionRecord): FunctionRecord | undefined => {
    const pp = r.parentPath!;
    if (pp.includes("/")) return byPath.get(pp);
    const a = parseAddress(pp, 0);
    return a && byAddress.get(formatBdf(a.segment, a.bus, a.devfn));
  };
  const resolving = new Set<FunctionRecord>();
  const resolve = (r: FunctionRecord): void => {
    if (r.parentPath === undefined || resolving.has(r)) return;
    resolving.add(r);
    const parent = parentOf(r);
    if (!parent) {
      r.bus ??= 0;
      return;
    }
    resolve(parent);
    const pb = parent.bus ?? 0;
    if (!parent.bridge) {
      const t = tree.get(bdfOf(parent));
      if (t?.secondary !== undefined) {
        parent.bridge = { primary: pb, secondary: t.secondary, subordinate: t.subordinate ?? t.secondary };
        parent.bridgeFrom = "tree";
      } else if (r.bus !== undefined) {
        parent.bridge = { primary: pb, secondary: r.bus, subordinate: r.bus };
        parent.bridgeFrom = "path";
      } else {
        let bus = pb + 1;
        while (bus < 0xff && used.has(`${r.segment}:${bus}`)) bus++;
        mark(r.segment, bus);
        parent.bridge = { primary: pb, secondary: bus, subordinate: bus };
        parent.bridgeFrom = "guess";
        warnings.push({ code: "bus-guessed", bdf: bdfOf(parent), bus, line: parent.line });
      }
    }
    r.bus ??= parent.bridge.secondary;
  };
  for (const r of pathed) resolve(r);
  // widen path-derived ranges over their subtrees, deepest first
  const depth = (r: FunctionRecord): number => (r.path ? r.path.split("/").length : 1);
  for (const r of [...pathed].sort((a, b) => depth(b) - depth(a))) {
    const top = Math.max(r.bus ?? 0, r.bridge?.subordinate ?? 0);
    let p = parentOf(r);
    for (let hops = 0; p && hops < 256; hops++) {
      if (p.bridge && p.bridgeFrom !== undefined && p.bridgeFrom !== "tree" && p.bridge.subordinate < top) p.bridge = { ...p.bridge, subordinate: top };
      p = p.parentPath !== undefined ? parentOf(p) : undefined;
    }
  }
}
