/**
 * The line that opens a function: `[dddd:]bb:dd.f Class [cccc]: Vendor Device [vvvv:dddd] (rev rr) (prog-if pp [...])`,
 * its `-n` form (`bb:dd.f cccc: vvvv:dddd`), `-P`/`-PP` paths (`00:1c.0/00.0`,
 * `00:1c.0/01:00.0`) and the `-m` machine form (`bb:dd.f "Class" "Vendor" "Device" -rNN -pNN …`).
 */
import { classFromName } from "./class-names.js";
import { decAt, hexAt, isHexDigit } from "./caps.js";
import type { PathStep } from "./record.js";

export interface DeviceLine {
  readonly segment: number;
  readonly bus: number;
  readonly devfn: number;
  /** path steps after the first element (`-P`/`-PP`) */
  readonly steps: readonly PathStep[];
  /** end of the address (and path) */
  readonly end: number;
}

function isDigit07(c: number): boolean {
  return c >= 48 && c <= 55;
}

/** `dd.f` at i: [devfn, end] */
function slotFn(text: string, i: number): [number, number] | undefined {
  if (!isHexDigit(text.charCodeAt(i)) || !isHexDigit(text.charCodeAt(i + 1)) || text.charCodeAt(i + 2) !== 46 || !isDigit07(text.charCodeAt(i + 3))) return undefined;
  const slot = hexAt(text, i, 2)![0];
  if (slot > 0x1f) return undefined;
  return [(slot << 3) | (text.charCodeAt(i + 3) - 48), i + 4];
}

/** `bb:dd.f` at i: [bus, devfn, end] */
function busSlotFn(text: string, i: number): [number, number, number] | undefined {
  if (!isHexDigit(text.charCodeAt(i)) || !isHexDigit(text.charCodeAt(i + 1)) || text.charCodeAt(i + 2) !== 58) return undefined;
  const sf = slotFn(text, i + 3);
  return sf && [hexAt(text, i, 2)![0], sf[0], sf[1]];
}

/**
 * Reads the address at `p`. Returns undefined unless it is followed by a
 * space or the end of the line (so `00: 86 80 …` hex lines and `10BitTag…`
 * continuations never match).
 */
export function parseAddress(text: string, p: number): DeviceLine | undefined {
  let segment = 0;
  let i = p;
  // optional domain: 4..8 hex digits then ':'
  let j = i;
  while (j < text.length && j - i < 9 && isHexDigit(text.charCodeAt(j))) j++;
  if (j - i >= 4 && text.charCodeAt(j) === 58) {
    segment = hexAt(text, i, 8)![0];
    i = j + 1;
  } else if (j - i !== 2) return undefined;
  const first = busSlotFn(text, i);
  if (!first) return undefined;
  i = first[2];
  const steps: PathStep[] = [];
  while (text.charCodeAt(i) === 47 /* / */) {
    const full = busSlotFn(text, i + 1);
    if (full) {
      steps.push({ bus: full[0], devfn: full[1] });
      i = full[2];
      continue;
    }
    const short = slotFn(text, i + 1);
    if (!short) return undefined;
    steps.push({ bus: undefined, devfn: short[0] });
    i = short[1];
  }
  if (i < text.length && text.charCodeAt(i) !== 32 && text.charCodeAt(i) !== 9) return undefined;
  return { segment, bus: first[0], devfn: first[1], steps, end: i };
}

export interface DeviceFacts {
  classBase?: number | undefined;
  classText?: string | undefined;
  /** the class number was read back from its name (no `[cccc]`) */
  classByName?: boolean | undefined;
  progIf?: number | undefined;
  vendor?: number | undefined;
  device?: number | undefined;
  /** no ids printed: the name as printed (`Vendor Device`, or the vendor alone with `deviceName`) */
  vendorName?: string | undefined;
  deviceName?: string | undefined;
  revision?: number | undefined;
  subsystemVendor?: number | undefined;
  subsystemDevice?: number | undefined;
}

const IDS_RE = /\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]/g;
const NUMERIC_RE = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(?=\s|$)/;
const REV_RE = / \(rev ([0-9a-fA-F]{2})\)/;
const PROGIF_RE = / \(prog-if ([0-9a-fA-F]{2})/;

/** the last `[vvvv:dddd]` of a name (device names may hold other brackets) */
export function lastIds(text: string): [number, number] | undefined {
  let last: RegExpExecArray | null = null;
  IDS_RE.lastIndex = 0;
  for (let m = IDS_RE.exec(text); m; m = IDS_RE.exec(text)) last = m;
  return last ? [parseInt(last[1]!, 16), parseInt(last[2]!, 16)] : undefined;
}

/** ids of a `Subsystem:` value: `Name [vvvv:dddd]` (`-nn`) or `vvvv:dddd` (`-n`) */
export function subsystemIds(value: string): [number, number] | undefined {
  const n = NUMERIC_RE.exec(value);
  if (n) return [parseInt(n[1]!, 16), parseInt(n[2]!, 16)];
  return lastIds(value);
}

/**
 * What follows the address on a text device line; undefined when it does not
 * look like lspci (no `Class: rest` shape).
 */
export function parseDeviceRest(rest: string): DeviceFacts | undefined {
  if (rest.charCodeAt(0) === 34 /* " */) return parseMachineRest(rest);
  const colon = rest.indexOf(": ");
  const cls = colon < 0 ? (rest.endsWith(":") ? rest.slice(0, -1) : undefined) : rest.slice(0, colon);
  if (cls === undefined || cls.length === 0) return undefined;
  const out: DeviceFacts = {};
  const name = rest.slice(colon < 0 ? rest.length : colon + 2);
  const bracket = /^(.*?)\s*\[([0-9a-fA-F]{4})\]$/.exec(cls);
  if (bracket) {
    out.classBase = parseInt(bracket[2]!, 16);
    out.classText = bracket[1]!;
  } else if (/^[0-9a-fA-F]{4}$/.test(cls)) {
    out.classBase = parseInt(cls, 16);
  } else {
    out.classText = cls;
    out.classBase = classFromName(cls);
    out.classByName = true;
  }
  const numeric = NUMERIC_RE.exec(name);
  const ids = numeric ? [parseInt(numeric[1]!, 16), parseInt(numeric[2]!, 16)] : lastIds(name);
  if (ids) {
    out.vendor = ids[0];
    out.device = ids[1];
  } else {
    const printed = name.replace(/ \(prog-if [^)]*\)?.*$/, "").replace(/ \(rev [0-9a-fA-F]{2}\)\s*$/, "").trim();
    if (printed.length > 0) out.vendorName = printed;
  }
  const rev = REV_RE.exec(name);
  if (rev) out.revision = parseInt(rev[1]!, 16);
  const pi = PROGIF_RE.exec(name);
  if (pi) out.progIf = parseInt(pi[1]!, 16);
  return out;
}

/** `"Class [cccc]" "Vendor [vvvv]" "Device [dddd]" -rNN -pNN "SVendor [ssss]" "SDevice [dddd]"` */
function parseMachineRest(rest: string): DeviceFacts | undefined {
  const fields: string[] = [];
  const opts: string[] = [];
  let i = 0;
  while (i < rest.length) {
    const c = rest.charCodeAt(i);
    if (c === 34) {
      const end = rest.indexOf('"', i + 1);
      if (end < 0) break;
      fields.push(rest.slice(i + 1, end));
      i = end + 1;
    } else if (c === 45 /* - */) {
      let end = i;
      while (end < rest.length && rest.charCodeAt(end) !== 32) end++;
      opts.push(rest.slice(i, end));
      i = end;
    } else i++;
  }
  if (fields.length < 3) return undefined;
  const out: DeviceFacts = {};
  const num = (f: string | undefined): number | undefined => {
    if (f === undefined) return undefined;
    const m = /(?:^|\[)([0-9a-fA-F]{4})\]?$/.exec(f);
    return m ? parseInt(m[1]!, 16) : undefined;
  };
  const cls = fields[0]!;
  out.classBase = num(cls);
  if (out.classBase === undefined) {
    out.classBase = classFromName(cls);
    out.classByName = true;
  }
  out.classText = cls.replace(/\s*\[[0-9a-fA-F]{4}\]$/, "");
  out.vendor = num(fields[1]);
  out.device = num(fields[2]);
  if (out.vendor === undefined && out.device === undefined && fields[1] && fields[2]) {
    out.vendorName = fields[1];
    out.deviceName = fields[2];
  }
  out.subsystemVendor = num(fields[3]);
  out.subsystemDevice = num(fields[4]);
  for (const o of opts) {
    if (o.startsWith("-r")) out.revision = hexAt(o, 2, 2)?.[0];
    else if (o.startsWith("-p")) out.progIf = hexAt(o, 2, 2)?.[0];
  }
  return out;
}

/** `IOMMU Group 12` prefix of the popular ls-iommu script lines: [group, end] */
export function scriptGroupAt(text: string, p: number): [number, number] | undefined {
  if (!text.startsWith("IOMMU Group ", p) && !text.startsWith("IOMMU group ", p)) return undefined;
  const n = decAt(text, p + 12);
  if (!n) return undefined;
  let i = n[1];
  if (text.charCodeAt(i) === 58) i++;
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  return [n[0], i];
}
