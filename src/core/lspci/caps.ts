/**
 * `Capabilities: [off] Name …` blocks: the name gives the capability ID, the
 * detail lines (`-vv`) give the registers that decide aliases and groups.
 * Only what the text shows is set; the rest stays undefined.
 */
import { newCapFacts } from "./record.js";
import type { CapFacts, CapKind } from "./record.js";

type NameEntry = readonly [prefix: string, id: number, kind: CapKind];

// names as lspci prints them (ls-caps.c / ls-ecaps.c wording), IDs from the PCI and PCIe specs
const STANDARD_NAMES: readonly NameEntry[] = [
  ["Power Management version", 0x01, "pm"],
  ["AGP version", 0x02, "other"],
  ["AGP3", 0x0e, "other"],
  ["Vital Product Data", 0x03, "other"],
  ["Slot ID", 0x04, "other"],
  ["MSI-X:", 0x11, "msix"],
  ["MSI:", 0x05, "msi"],
  ["CompactPCI hot-swap", 0x06, "other"],
  ["CompactPCI central resource control", 0x0b, "other"],
  ["PCI-X", 0x07, "other"],
  ["HyperTransport", 0x08, "other"],
  ["Vendor Specific Information", 0x09, "vendor"],
  ["Debug port", 0x0a, "other"],
  ["Hot-plug capable", 0x0c, "other"],
  ["Subsystem", 0x0d, "other"],
  ["Secure device", 0x0f, "other"],
  ["Express", 0x10, "express"],
  ["SATA HBA", 0x12, "other"],
  ["PCI Advanced Features", 0x13, "other"],
  ["Enhanced Allocation", 0x14, "other"],
];

const EXTENDED_NAMES: readonly NameEntry[] = [
  ["Null", 0x00, "other"],
  ["Advanced Error Reporting", 0x01, "other"],
  ["Virtual Channel", 0x02, "other"],
  ["Device Serial Number", 0x03, "dsn"],
  ["Power Budgeting", 0x04, "other"],
  ["Root Complex Link", 0x05, "other"],
  ["Root Complex Internal Link", 0x06, "other"],
  ["Root Complex Event Collector", 0x07, "other"],
  ["Multi-Function Virtual Channel", 0x08, "other"],
  ["Root Complex Register Block", 0x0a, "other"],
  ["Vendor Specific Information", 0x0b, "vendor"],
  ["Access Control Services", 0x0d, "acs"],
  ["Alternative Routing-ID Interpretation", 0x0e, "ari"],
  ["Address Translation Service", 0x0f, "other"],
  ["Single Root I/O Virtualization", 0x10, "sriov"],
  ["Multi-Root I/O Virtualization", 0x11, "other"],
  ["Multicast", 0x12, "other"],
  ["Page Request Interface", 0x13, "other"],
  ["Resizable BAR", 0x15, "other"],
  ["Physical Resizable BAR", 0x15, "other"],
  ["Dynamic Power Allocation", 0x16, "other"],
  ["Transaction Processing Hints", 0x17, "other"],
  ["Latency Tolerance Reporting", 0x18, "other"],
  ["Secondary PCI Express", 0x19, "other"],
  ["Protocol Multiplexing", 0x1a, "other"],
  ["Process Address Space ID", 0x1b, "other"],
  ["LN Requester", 0x1c, "other"],
  ["Downstream Port Containment", 0x1d, "other"],
  ["L1 PM Substates", 0x1e, "other"],
  ["Precision Time Measurement", 0x1f, "other"],
  ["PCI Express over M_PHY", 0x20, "other"],
  ["FRS Queueing", 0x21, "other"],
  ["Readiness Time Reporting", 0x22, "other"],
  ["Designated Vendor-Specific", 0x23, "other"],
  ["VF Resizable BAR", 0x24, "other"],
  ["Data Link Feature", 0x25, "other"],
  ["Physical Layer 16.0 GT/s", 0x26, "other"],
  ["Lane Margining at the Receiver", 0x27, "other"],
  ["Hierarchy ID", 0x28, "other"],
  ["Native PCIe Enclosure Management", 0x29, "other"],
  ["Physical Layer 32.0 GT/s", 0x2a, "other"],
  ["Alternate Protocol", 0x2b, "other"],
  ["System Firmware Intermediary", 0x2c, "other"],
  ["Shadow Functions", 0x2d, "other"],
  ["Data Object Exchange", 0x2e, "other"],
  ["Device 3", 0x2f, "other"],
  ["Integrity and Data Encryption", 0x30, "other"],
  ["Physical Layer 64.0 GT/s", 0x31, "other"],
  ["Flit Logging", 0x32, "other"],
];

/** first word → entries starting with it, so a header costs one map lookup and a few compares */
function indexByFirstWord(entries: readonly NameEntry[]): Map<string, NameEntry[]> {
  const map = new Map<string, NameEntry[]>();
  for (const e of entries) {
    const word = firstWord(e[0], 0);
    const list = map.get(word) ?? [];
    list.push(e);
    // longest prefix first: "Root Complex Internal Link" before "Root Complex Link"
    list.sort((a, b) => b[0].length - a[0].length);
    map.set(word, list);
  }
  return map;
}

function firstWord(text: string, from: number): string {
  let end = from;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c === 32 || c === 9 || c === 58 /* : */) break;
    end++;
  }
  return text.slice(from, end);
}

const STANDARD_INDEX = indexByFirstWord(STANDARD_NAMES);
const EXTENDED_INDEX = indexByFirstWord(EXTENDED_NAMES);

/** PCIe device/port type names after `Express (vN) ` (ls-caps.c cap_express), longest first */
const EXPRESS_TYPES: ReadonlyArray<readonly [string, number]> = [
  ["Root Complex Integrated Endpoint", 0x9],
  ["Root Complex Event Collector", 0xa],
  ["Legacy Endpoint", 0x1],
  ["Endpoint", 0x0],
  ["Root Port", 0x4],
  ["Upstream Port", 0x5],
  ["Downstream Port", 0x6],
  ["PCI-Express to PCI/PCI-X Bridge", 0x7],
  ["PCI/PCI-X to PCI-Express Bridge", 0x8],
];

export type CapHeader = { readonly kind: "cap"; readonly cap: CapFacts } | { readonly kind: "denied" } | { readonly kind: "broken" };

export function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

export function hexValue(c: number): number {
  return c <= 57 ? c - 48 : c >= 97 ? c - 87 : c - 55;
}

/** parses hex digits at `from`; [value, end] or undefined */
export function hexAt(text: string, from: number, maxDigits = 8): [number, number] | undefined {
  let v = 0;
  let i = from;
  while (i < text.length && i - from < maxDigits && isHexDigit(text.charCodeAt(i))) {
    v = v * 16 + hexValue(text.charCodeAt(i));
    i++;
  }
  return i === from ? undefined : [v, i];
}

/** parses decimal digits at `from`; [value, end] or undefined */
export function decAt(text: string, from: number): [number, number] | undefined {
  let v = 0;
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    i++;
  }
  return i === from ? undefined : [v, i];
}

/** `Name+` / `Name-` as a whole word after `from`; undefined when absent or cut */
export function flag(text: string, name: string, from = 0): boolean | undefined {
  let i = text.indexOf(name, from);
  while (i >= 0) {
    const before = i === 0 ? 32 : text.charCodeAt(i - 1);
    const after = text.charCodeAt(i + name.length);
    // preceded by a space, tab, ',', ':' or '(' (`(Slot+)`)
    if ((before === 32 || before === 9 || before === 44 || before === 58 || before === 40) && (after === 43 || after === 45)) return after === 43;
    i = text.indexOf(name, i + 1);
  }
  return undefined;
}

/** decimal number after `label` (e.g. "PhantFunc "); undefined when absent */
export function numberAfter(text: string, label: string, from = 0): number | undefined {
  const i = text.indexOf(label, from);
  return i < 0 ? undefined : decAt(text, i + label.length)?.[0];
}

/**
 * Parses what follows `Capabilities: ` (from `p`): `[40] Express (v2) …`,
 * `[100 v1] Access Control Services`, `<access denied>`, `[50] <chain broken>`.
 */
export function parseCapHeader(text: string, p: number, line: number): CapHeader | undefined {
  if (text.charCodeAt(p) === 60 /* < */) return text.startsWith("<access denied>", p) ? { kind: "denied" } : { kind: "broken" };
  if (text.charCodeAt(p) !== 91 /* [ */) return undefined;
  const off = hexAt(text, p + 1, 3);
  if (!off) return undefined;
  let i = off[1];
  if (text.charCodeAt(i) === 32 && text.charCodeAt(i + 1) === 118 /* v */) {
    const v = decAt(text, i + 2);
    if (!v) return undefined;
    i = v[1];
  }
  if (text.charCodeAt(i) !== 93 /* ] */) return undefined;
  i++;
  while (text.charCodeAt(i) === 32) i++;
  if (text.charCodeAt(i) === 60) return { kind: "broken" };
  const offset = off[0];
  const space = offset >= 0x100 ? "extended" : "standard";
  let id = -1;
  let kind: CapKind = "other";
  if (text.charCodeAt(i) === 35 /* # */) {
    // older pciutils print unknown IDs as `#19`
    id = hexAt(text, i + 1, 4)?.[0] ?? -1;
  } else if (text.startsWith("Extended Capability ID ", i)) {
    const at = i + "Extended Capability ID ".length;
    id = hexAt(text, text.startsWith("0x", at) ? at + 2 : at, 4)?.[0] ?? -1;
  } else {
    const candidates = (space === "standard" ? STANDARD_INDEX : EXTENDED_INDEX).get(firstWord(text, i));
    const hit = candidates?.find((e) => text.startsWith(e[0], i));
    if (hit) {
      id = hit[1];
      kind = hit[2];
    }
  }
  const cap = newCapFacts(line, offset, space, id, kind);
  headerDetails(cap, text, i);
  return { kind: "cap", cap };
}

/** the facts lspci prints on the header line itself */
function headerDetails(cap: CapFacts, text: string, i: number): void {
  switch (cap.kind) {
    case "express": {
      let t = i + "Express".length;
      while (text.charCodeAt(t) === 32) t++;
      if (text.startsWith("(v", t)) {
        const v = decAt(text, t + 2);
        if (v) {
          cap.version = v[0];
          t = v[1] + 1;
          while (text.charCodeAt(t) === 32) t++;
        }
      }
      const hit = EXPRESS_TYPES.find(([name]) => text.startsWith(name, t));
      if (hit) cap.type = hit[1];
      else if (text.startsWith("Unknown type ", t)) cap.type = decAt(text, t + "Unknown type ".length)?.[0];
      const slot = flag(text, "Slot", t);
      cap.slot = slot ?? false;
      return;
    }
    case "pm":
      cap.pmVersion = decAt(text, i + "Power Management version ".length)?.[0];
      return;
    case "msi": {
      cap.enabled = flag(text, "Enable", i);
      const c = text.indexOf("Count=", i);
      if (c >= 0) {
        const slash = text.indexOf("/", c);
        if (slash >= 0) cap.vectors = decAt(text, slash + 1)?.[0];
      }
      cap.maskable = flag(text, "Maskable", i);
      cap.address64 = flag(text, "64bit", i);
      return;
    }
    case "msix":
      cap.enabled = flag(text, "Enable", i);
      cap.vectors = numberAfter(text, "Count=", i);
      return;
    case "dsn": {
      const s = text.slice(i + "Device Serial Number ".length).trim();
      if (/^[0-9a-f]{2}(-[0-9a-f]{2}){7}$/.test(s)) cap.serial = s.replace(/-/g, "");
      return;
    }
    case "vendor": {
      const len = text.indexOf("Len=", i);
      if (len >= 0) cap.length = hexAt(text, len + 4, 3)?.[0];
      const id = text.indexOf("ID=", i);
      if (id >= 0 && cap.space === "extended") cap.vsecId = hexAt(text, id + 3, 4)?.[0];
      return;
    }
    default:
  }
}

// registers a detail line may continue (lspci wraps them onto indented lines)
export const REG_NONE = 0;
const REG_DEVCAP = 1;
const REG_DEVCTL = 2;
const REG_SLTCAP = 3;
const REG_DEVCAP2 = 4;
const REG_DEVCTL2 = 5;
const REG_ACSCAP = 6;
const REG_ACSCTL = 7;

const ACS_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ["SrcValid", 0x01],
  ["TransBlk", 0x02],
  ["ReqRedir", 0x04],
  ["CmpltRedir", 0x08],
  ["UpstreamFwd", 0x10],
  ["EgressCtrl", 0x20],
  ["DirectTrans", 0x40],
];

/** detail-line state of the capability being read */
export interface DetailState {
  reg: number;
  /** ACS flags read so far for a register cut over two lines */
  acsBits: number;
  acsSeen: number;
  /** a word a hard wrap cut at the end of the last ACS line (`Direc` of `DirectTrans+`) */
  acsTail: string;
}

export function newDetailState(): DetailState {
  return { reg: REG_NONE, acsBits: 0, acsSeen: 0, acsTail: "" };
}

/** true when the first word of the line ends with ':' (a new register, not a wrapped one) */
export function startsNewKey(text: string, p: number): boolean {
  for (let i = p; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9) return false;
    if (c === 58) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 32;
      return next === 32 || next === 9;
    }
  }
  return false;
}

function readAcs(cap: CapFacts, st: DetailState, text: string, from: number): void {
  for (const [name, bit] of ACS_FLAGS) {
    if (st.acsSeen & bit) continue;
    const f = flag(text, name, from);
    if (f === undefined) continue;
    st.acsSeen |= bit;
    if (f) st.acsBits |= bit;
  }
  if (st.acsSeen === 0x7f) {
    if (st.reg === REG_ACSCAP) cap.acsCap = st.acsBits;
    else cap.acsCtl = st.acsBits;
    st.reg = REG_NONE;
    st.acsTail = "";
    return;
  }
  let end = text.length;
  while (end > from && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  const last = text.charCodeAt(end - 1);
  let start = end;
  while (start > from && text.charCodeAt(start - 1) !== 32 && text.charCodeAt(start - 1) !== 9) start--;
  st.acsTail = last === 43 || last === 45 ? "" : text.slice(start, end);
}

const LINK_SPEEDS: ReadonlyArray<readonly [string, number]> = [
  ["2.5GT/s", 1],
  ["5GT/s", 2],
  ["8GT/s", 3],
  ["16GT/s", 4],
  ["32GT/s", 5],
  ["64GT/s", 6],
];

/**
 * One detail line (from `p`, indentation skipped) of capability `cap`.
 * `wrapped` marks a flush-left line in an indented block: only an ACS
 * register cut mid-line may continue on it.
 */
export function capDetail(cap: CapFacts, st: DetailState, text: string, p: number, wrapped: boolean): void {
  if (wrapped) {
    if (st.reg === REG_ACSCAP || st.reg === REG_ACSCTL) readAcs(cap, st, ` ${st.acsTail}${text.slice(p)}`, 0);
    return;
  }
  switch (cap.kind) {
    case "express":
      expressDetail(cap, st, text, p);
      return;
    case "acs":
      if (text.startsWith("ACSCap:", p)) {
        st.reg = REG_ACSCAP;
        st.acsBits = 0;
        st.acsSeen = 0;
        readAcs(cap, st, text, p + 7);
      } else if (text.startsWith("ACSCtl:", p)) {
        st.reg = REG_ACSCTL;
        st.acsBits = 0;
        st.acsSeen = 0;
        readAcs(cap, st, text, p + 7);
      } else if (st.reg !== REG_NONE && !startsNewKey(text, p)) readAcs(cap, st, text, p);
      else st.reg = REG_NONE;
      return;
    case "ari":
      if (text.startsWith("ARICap:", p)) cap.nextFunction = numberAfter(text, "Next Function: ", p);
      return;
    case "sriov":
      if (text.startsWith("IOVCtl:", p)) {
        cap.vfEnable = flag(text, "Enable", p + 7);
        cap.ariHierarchy = flag(text, "ARIHierarchy", p);
      } else if (text.startsWith("Initial VFs:", p)) {
        cap.initialVFs = numberAfter(text, "Initial VFs: ", p);
        cap.totalVFs = numberAfter(text, "Total VFs: ", p);
        cap.numVFs = numberAfter(text, "Number of VFs: ", p);
      } else if (text.startsWith("VF offset:", p)) {
        cap.vfOffset = numberAfter(text, "VF offset: ", p);
        cap.vfStride = numberAfter(text, "stride: ", p);
        const d = text.indexOf("Device ID: ", p);
        if (d >= 0) cap.vfDevice = hexAt(text, d + "Device ID: ".length, 4)?.[0];
      }
      return;
    case "pm":
      if (text.startsWith("Status: D", p)) cap.powerState = decAt(text, p + 9)?.[0];
      return;
    case "msix":
      if (text.startsWith("Vector table:", p)) {
        cap.tableBar = numberAfter(text, "BAR=", p);
        const o = text.indexOf("offset=", p);
        if (o >= 0) cap.tableOffset = hexAt(text, o + 7, 8)?.[0];
      }
      return;
    default:
  }
}

function expressDetail(cap: CapFacts, st: DetailState, text: string, p: number): void {
  const c0 = text.charCodeAt(p);
  if (c0 === 68 /* D */ && text.startsWith("Dev", p)) {
    if (text.startsWith("DevCap:", p)) {
      st.reg = REG_DEVCAP;
      const payload = numberAfter(text, "MaxPayload ", p);
      if (payload !== undefined && payload >= 128) cap.maxPayload = Math.round(Math.log2(payload / 128));
      cap.phantomCount = numberAfter(text, "PhantFunc ", p);
      expressFlags(cap, st, text, p + 7);
      return;
    }
    if (text.startsWith("DevCtl:", p)) {
      st.reg = REG_DEVCTL;
      expressFlags(cap, st, text, p + 7);
      return;
    }
    if (text.startsWith("DevCap2:", p)) {
      st.reg = REG_DEVCAP2;
      expressFlags(cap, st, text, p + 8);
      return;
    }
    if (text.startsWith("DevCtl2:", p)) {
      st.reg = REG_DEVCTL2;
      expressFlags(cap, st, text, p + 8);
      return;
    }
  }
  if (c0 === 76 /* L */ && text.startsWith("LnkSta:", p)) {
    st.reg = REG_NONE;
    const s = text.indexOf("Speed ", p);
    if (s >= 0) cap.linkSpeed = LINK_SPEEDS.find(([name]) => text.startsWith(name, s + 6))?.[1];
    cap.linkWidth = numberAfter(text, "Width x", p);
    return;
  }
  if (c0 === 83 /* S */ && text.startsWith("SltCap:", p)) {
    st.reg = REG_SLTCAP;
    return;
  }
  if (startsNewKey(text, p) && !text.startsWith("AtomicOps", p)) {
    st.reg = REG_NONE;
    return;
  }
  expressFlags(cap, st, text, p);
}

/** flags of the register being continued */
function expressFlags(cap: CapFacts, st: DetailState, text: string, from: number): void {
  switch (st.reg) {
    case REG_DEVCAP:
      cap.extTag = flag(text, "ExtTag", from) ?? cap.extTag;
      cap.rbe = flag(text, "RBE", from) ?? cap.rbe;
      cap.flr = flag(text, "FLReset", from) ?? cap.flr;
      return;
    case REG_DEVCTL:
      cap.phantomEnabled = flag(text, "PhantFunc", from) ?? cap.phantomEnabled;
      return;
    case REG_SLTCAP: {
      const n = numberAfter(text, "Slot #", from);
      if (n !== undefined) cap.physicalSlot = n;
      return;
    }
    case REG_DEVCAP2:
      cap.ariFwdCap = flag(text, "ARIFwd", from) ?? cap.ariFwdCap;
      return;
    case REG_DEVCTL2:
      cap.ariFwdCtl = flag(text, "ARIFwd", from) ?? cap.ariFwdCtl;
      return;
    default:
  }
}
