/**
 * One pass over the text, line by line, turning lspci output into
 * FunctionRecords and TreeNodes grouped by dump. Cheap character checks come
 * first; regular expressions only run on device lines.
 *
 * Tolerated: quote markers (`> `), CRLF, tabs turned to spaces (indentation
 * is compared, never counted), lines wrapped or cut by a forum, unrelated
 * text before, between and after dumps, stderr lines mixed in.
 */
import { capDetail, hexAt, isHexDigit, newDetailState, parseCapHeader, REG_NONE, startsNewKey } from "./caps.js";
import type { DetailState } from "./caps.js";
import { parseAddress, parseDeviceRest, scriptGroupAt, subsystemIds } from "./device-line.js";
import type { DeviceFacts } from "./device-line.js";
import { newRecord } from "./record.js";
import type { CapFacts, FunctionRecord, TreeNode } from "./record.js";
import { TreeReader } from "./tree.js";

export interface Dump {
  readonly index: number;
  readonly firstLine: number;
  readonly records: FunctionRecord[];
  readonly trees: TreeNode[];
  /** any function in this dump showed an extended capability */
  extendedSeen: boolean;
  /** largest hex dump in this dump */
  hexMax: number;
}

export interface ScanResult {
  readonly dumps: readonly Dump[];
  readonly skipped: number;
  readonly firstSkipped: number;
  /** the first non-blank line that fit nothing (for the error when nothing fits) */
  readonly firstUnfit: { readonly line: number; readonly text: string } | undefined;
}

const CONFIG_SPACE_MAX = 4096;

/** where the content of a line starts: after quote markers (`> `, `>>`) */
function contentBase(s: string): number {
  let base = 0;
  for (;;) {
    let q = base;
    while (q < s.length && (s.charCodeAt(q) === 32 || s.charCodeAt(q) === 9)) q++;
    if (s.charCodeAt(q) !== 62 /* > */) return base;
    base = q + 1;
    if (s.charCodeAt(base) === 32) base++;
  }
}

/** a shell prompt running lspci: `$ lspci -vv`, `root@host:~# sudo lspci -nnk` */
const PROMPT_RE = /(?:^|[$#%>]\s*|sudo\s+)lspci(?:\s|$)/;

/** hex digit → value, -1 for anything else */
const HEX_DIGITS = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let c = 0; c < 10; c++) t[48 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[97 + c] = 10 + c;
    t[65 + c] = 10 + c;
  }
  return t;
})();

function hexDigitValue(c: number): number {
  return c < 128 ? HEX_DIGITS[c]! : -1;
}

/** `-vmm` keys: `Slot:` opens a record, the rest fill it */
const MACHINE_KEYS = new Set(["Class", "Vendor", "Device", "SVendor", "SDevice", "Rev", "ProgIf", "Driver", "Module", "IOMMUGroup", "NUMANode", "PhySlot"]);

class Scanner {
  readonly dumps: Dump[] = [];
  skipped = 0;
  firstSkipped = 0;
  firstUnfit: { line: number; text: string } | undefined;

  #dump: Dump | undefined;
  #keys = new Set<string | number>();
  #rec: FunctionRecord | undefined;
  #recIndent = 0;
  /** undefined until the record's first detail line says whether details are indented */
  #indented: boolean | undefined;
  #cap: CapFacts | undefined;
  #detail: DetailState = newDetailState();
  #tree: TreeReader | undefined;
  #scriptGroup: number | undefined;
  /** the text after the address of the last device line, while it may continue */
  #deviceRest: string | undefined;
  /** the same, rejoined with a space at each wrap */
  #deviceRestSpaced: string | undefined;

  #newDump(line: number): Dump {
    const dump: Dump = { index: this.dumps.length, firstLine: line, records: [], trees: [], extendedSeen: false, hexMax: 0 };
    this.dumps.push(dump);
    this.#dump = dump;
    this.#keys = new Set();
    return dump;
  }

  /** marks the end of the current dump; the next record opens a new one */
  #endDump(): void {
    if (this.#dump && (this.#dump.records.length > 0 || this.#dump.trees.length > 0)) this.#dump = undefined;
    this.#closeRecord();
    this.#tree = undefined;
    this.#scriptGroup = undefined;
  }

  #closeRecord(): void {
    this.#rec = undefined;
    this.#cap = undefined;
  }

  #skip(line: number, s: string): void {
    this.skipped++;
    if (this.firstSkipped === 0) this.firstSkipped = line;
    if (!this.firstUnfit) this.firstUnfit = { line, text: s };
  }

  run(text: string): ScanResult {
    // one short-lived string per line (no array of all lines: it would outlive the young generation)
    let start = 0;
    let n = 0;
    while (start < text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      const lineEnd = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
      const from = start;
      start = end + 1;
      n++;
      // hex dump lines are most of a -xxxx dump: read them in place, without a line string
      if (this.#rec && isHexDigit(text.charCodeAt(from)) && this.#hexLine(text, from, lineEnd)) continue;
      const s = text.slice(from, lineEnd);
      let base = 0;
      let p = 0;
      while (p < s.length && (s.charCodeAt(p) === 9 || s.charCodeAt(p) === 32)) p++;
      if (s.charCodeAt(p) === 62 /* > */) {
        base = contentBase(s);
        p = base;
        while (p < s.length && (s.charCodeAt(p) === 9 || s.charCodeAt(p) === 32)) p++;
      }
      if (p >= s.length) {
        if (this.#rec) this.#rec.ended = true;
        continue;
      }
      this.#line(s, base, p, n);
    }
    return { dumps: this.dumps, skipped: this.skipped, firstSkipped: this.firstSkipped, firstUnfit: this.firstUnfit };
  }

  #line(s: string, base: number, p: number, line: number): void {
    const c = s.charCodeAt(p);
    const indent = p - base;

    // trees
    if (c === 45 || c === 43 || c === 92 || c === 124) {
      if (TreeReader.startsTree(s, p)) {
        const dump = this.#dump;
        if (!dump || dump.records.length > 0 || (this.#tree === undefined && dump.trees.length > 0)) this.#endDump();
        this.#closeRecord();
        this.#tree = new TreeReader();
        this.#treeLine(s, base, line);
        return;
      }
      if (this.#tree && TreeReader.looksLikeTree(s, p)) {
        this.#treeLine(s, base, line);
        return;
      }
    } else if (this.#tree) {
      this.#tree = undefined;
    }

    // device lines and hex dumps
    if (isHexDigit(c)) {
      if (this.#deviceLine(s, p, indent, line, undefined)) return;
      if (this.#rec && this.#hexLine(s, p)) return;
    } else if (c === 73 /* I */ && s.startsWith("IOMMU ", p) && !s.startsWith("IOMMU group:", p)) {
      const g = scriptGroupAt(s, p);
      if (g) {
        if (g[1] < s.length && this.#deviceLine(s, g[1], indent, line, g[0])) return;
        if (g[1] >= s.length) {
          this.#scriptGroup = g[0];
          this.#closeRecord();
          return;
        }
      }
    } else if (c === 83 /* S */ && s.startsWith("Slot:", p)) {
      let v = p + 5;
      while (s.charCodeAt(v) === 9 || s.charCodeAt(v) === 32) v++;
      const addr = parseAddress(s, v);
      if (addr && addr.steps.length === 0) {
        this.#openRecord(addr.segment, addr.bus, addr.devfn, undefined, undefined, "machine", {}, indent, line, undefined);
        return;
      }
    }

    const rec = this.#rec;
    if (rec) {
      if (this.#indented === undefined && this.#deviceTail(rec, s, p)) return;
      if (this.#indented === undefined) this.#indented = indent > this.#recIndent;
      if (this.#indented && indent <= this.#recIndent) {
        // flush-left text inside an indented block: a wrapped tail, stderr, or prose after the dump
        if (this.#prompt(s, p)) return;
        if (this.#cap) capDetail(this.#cap, this.#detail, s, p, true);
        this.#skip(line, s);
        return;
      }
      if (rec.form === "machine") this.#machineDetail(rec, s, p);
      else this.#detailLine(rec, s, p, line);
      return;
    }
    if (this.#prompt(s, p)) return;
    this.#skip(line, s);
  }

  /**
   * The line right after a device line that was cut (no ids, or an open
   * bracket), when it is no detail key: the wrapped rest of that line. Fills
   * what the first part lacked.
   */
  #deviceTail(rec: FunctionRecord, s: string, p: number): boolean {
    const head = this.#deviceRest;
    // a blank line closed the block: what follows is not the rest of the device line
    if (rec.form !== "text" || head === undefined || rec.ended || startsKey(s, p)) return false;
    const open = count(head, 91) > count(head, 93) || count(head, 40) > count(head, 41);
    if (rec.vendor !== undefined && !open) return false;
    const joined = head + s.slice(p);
    const facts = parseDeviceRest(joined);
    if (!facts) return false;
    for (const [k, v] of Object.entries(definedOnly(facts))) {
      if ((rec as unknown as Record<string, unknown>)[k] === undefined) (rec as unknown as Record<string, unknown>)[k] = v;
    }
    // a wrap at a space ate the space: `(rev f1)` and the name read right only with it back
    const spacedRest = `${this.#deviceRestSpaced ?? head} ${s.slice(p)}`;
    const spaced = parseDeviceRest(spacedRest);
    this.#deviceRestSpaced = spacedRest;
    if (spaced) {
      if (rec.revision === undefined) rec.revision = spaced.revision;
      if (rec.progIf === undefined) rec.progIf = spaced.progIf;
    }
    if (facts.vendorName !== undefined && rec.vendor === undefined) {
      rec.vendorName = facts.vendorName;
      rec.vendorNameSpaced = spaced?.vendorName;
    }
    this.#deviceRest = joined;
    return true;
  }

  #prompt(s: string, p: number): boolean {
    if (s.indexOf("lspci", p) < 0 || !PROMPT_RE.test(s.slice(p))) return false;
    this.#endDump();
    return true;
  }

  #treeLine(s: string, base: number, line: number): void {
    const reader = this.#tree!;
    const before = reader.nodes.length;
    reader.read(s, base, line);
    const dump = this.#dump ?? this.#newDump(line);
    for (let i = before; i < reader.nodes.length; i++) dump.trees.push(reader.nodes[i]!);
  }

  /** opens a record when `s` at `p` is a device line; false otherwise */
  #deviceLine(s: string, p: number, indent: number, line: number, group: number | undefined): boolean {
    const addr = parseAddress(s, p);
    if (!addr) return false;
    let r = addr.end;
    while (s.charCodeAt(r) === 32 || s.charCodeAt(r) === 9) r++;
    const rest = s.slice(r);
    const facts = parseDeviceRest(rest);
    if (!facts) return false;
    let bus: number | undefined = addr.bus;
    let devfn = addr.devfn;
    let path: string | undefined;
    let parentPath: string | undefined;
    if (addr.steps.length > 0) {
      path = s.slice(p, addr.end);
      parentPath = path.slice(0, path.lastIndexOf("/"));
      const last = addr.steps[addr.steps.length - 1]!;
      bus = last.bus;
      devfn = last.devfn;
    }
    const form = s.charCodeAt(r) === 34 ? "machine" : "text";
    this.#openRecord(addr.segment, bus, devfn, path, parentPath, form, facts, indent, line, group ?? this.#scriptGroup);
    this.#deviceRest = rest;
    this.#deviceRestSpaced = undefined;
    return true;
  }

  #openRecord(
    segment: number,
    bus: number | undefined,
    devfn: number,
    path: string | undefined,
    parentPath: string | undefined,
    form: FunctionRecord["form"],
    facts: DeviceFacts,
    indent: number,
    line: number,
    group: number | undefined,
  ): void {
    const key = path ?? segment * 0x10000 + (bus ?? 0) * 0x100 + devfn;
    // a function seen again, or device lines after a tree: the next lspci run
    if (this.#dump && (this.#keys.has(key) || this.#dump.trees.length > 0)) this.#endDump();
    const dump = this.#dump ?? this.#newDump(line);
    this.#keys.add(key);
    if (this.#rec) this.#rec.ended = true;
    const rec = newRecord(line, dump.index, segment, bus, devfn, form, path, parentPath);
    rec.vendor = facts.vendor;
    rec.device = facts.device;
    rec.vendorName = facts.vendorName;
    rec.deviceName = facts.deviceName;
    rec.classBase = facts.classBase;
    rec.classText = facts.classText;
    rec.classByName = facts.classByName;
    rec.progIf = facts.progIf;
    rec.revision = facts.revision;
    rec.subsystemVendor = facts.subsystemVendor;
    rec.subsystemDevice = facts.subsystemDevice;
    if (group !== undefined) rec.group = group;
    dump.records.push(rec);
    this.#rec = rec;
    this.#deviceRest = undefined;
    this.#recIndent = indent;
    this.#indented = undefined;
    this.#cap = undefined;
    this.#tree = undefined;
  }

  /** `00: 86 80 …` / `100: …` at `p` (ending at `end`); false when the line is not one */
  #hexLine(s: string, p: number, end = s.length): boolean {
    let offset = 0;
    let i = p;
    for (; i - p < 3; i++) {
      const v = hexDigitValue(s.charCodeAt(i));
      if (v < 0) break;
      offset = offset * 16 + v;
    }
    if (i - p < 2 || s.charCodeAt(i) !== 58 || s.charCodeAt(i + 1) !== 32) return false;
    if (offset % 16 !== 0 || offset >= CONFIG_SPACE_MAX) return false;
    const rec = this.#rec!;
    const bytes = (rec.hex ??= this.#configBuffer());
    i++;
    let n = 0;
    while (n < 16 && i + 2 < end && s.charCodeAt(i) === 32) {
      const hi = hexDigitValue(s.charCodeAt(i + 1));
      const lo = hexDigitValue(s.charCodeAt(i + 2));
      if ((hi | lo) < 0) break;
      bytes[offset + n] = (hi << 4) | lo;
      n++;
      i += 3;
    }
    if (n === 0) return false;
    // a line cut short or skipped ends the usable bytes
    if (rec.hexGapAt === undefined) {
      if (offset === rec.hexKnown && rec.hexKnown % 16 === 0) rec.hexKnown = offset + n;
      else rec.hexGapAt = rec.hexKnown;
    }
    const dump = this.dumps[rec.dump]!;
    if (rec.hexKnown > dump.hexMax) dump.hexMax = rec.hexKnown;
    this.#cap = undefined;
    return true;
  }

  #pool = new Uint8Array(0);
  #poolUsed = 0;

  /** a zeroed 4 KiB view; carved from larger blocks so a big dump makes few allocations */
  #configBuffer(): Uint8Array {
    if (this.#poolUsed + CONFIG_SPACE_MAX > this.#pool.length) {
      this.#pool = new Uint8Array(CONFIG_SPACE_MAX * 32);
      this.#poolUsed = 0;
    }
    const view = this.#pool.subarray(this.#poolUsed, this.#poolUsed + CONFIG_SPACE_MAX);
    this.#poolUsed += CONFIG_SPACE_MAX;
    return view;
  }

  #detailLine(rec: FunctionRecord, s: string, p: number, line: number): void {
    const c = s.charCodeAt(p);
    const cap = this.#cap;
    switch (c) {
      case 67 /* C */:
        if (s.startsWith("Capabilities: ", p)) {
          this.#capHeader(rec, s, p + 14, line);
          return;
        }
        if (!cap && s.startsWith("Control:", p)) {
          if (rec.level < 2) rec.level = 2;
          return;
        }
        break;
      case 83 /* S */:
        if (!cap) {
          if (s.startsWith("Subsystem:", p)) {
            const ids = subsystemIds(s.slice(p + 10).trim());
            if (ids) {
              rec.subsystemVendor = ids[0];
              rec.subsystemDevice = ids[1];
            }
            return;
          }
          if (s.startsWith("Status:", p)) {
            if (rec.level < 2) rec.level = 2;
            const f = s.indexOf("Cap", p + 7);
            if (f >= 0 && (s.charCodeAt(f + 3) === 43 || s.charCodeAt(f + 3) === 45)) rec.capList = s.charCodeAt(f + 3) === 43;
            return;
          }
        }
        break;
      case 70 /* F */:
        if (!cap && s.startsWith("Flags:", p)) {
          if (rec.level < 1) rec.level = 1;
          const g = s.indexOf("IOMMU group ", p);
          if (g >= 0) {
            const v = parseInt(s.slice(g + 12), 10);
            if (Number.isFinite(v)) rec.group = v;
          }
          return;
        }
        break;
      case 73 /* I */:
        if (s.startsWith("IOMMU group:", p)) {
          const v = parseInt(s.slice(p + 12).trim(), 10);
          if (Number.isFinite(v)) rec.group = v;
          return;
        }
        break;
      case 66 /* B */:
        if (s.startsWith("Bus: primary=", p)) {
          const pri = hexAt(s, p + 13, 2);
          const si = s.indexOf("secondary=", p);
          const ui = s.indexOf("subordinate=", p);
          const sec = si >= 0 ? hexAt(s, si + 10, 2) : undefined;
          const sub = ui >= 0 ? hexAt(s, ui + 12, 2) : undefined;
          if (pri && sec && sub) rec.bridge = { primary: pri[0], secondary: sec[0], subordinate: sub[0] };
          if (rec.level < 1) rec.level = 1;
          return;
        }
        break;
      case 75 /* K */:
        if (s.startsWith("Kernel driver in use:", p)) {
          const d = s.slice(p + 21).trim();
          if (d.length > 0) rec.driver = d;
          this.#cap = undefined;
          rec.ended = true;
          return;
        }
        if (s.startsWith("Kernel modules:", p)) {
          this.#cap = undefined;
          rec.ended = true;
          return;
        }
        break;
      case 33 /* ! */:
        if (s.startsWith("!!! Unknown header type ", p)) {
          const h = hexAt(s, p + 24, 2);
          if (h) rec.unknownHeaderType = h[0];
          if (rec.level < 1) rec.level = 1;
          return;
        }
        break;
      case 49 /* 1 */:
        if (!cap && s.startsWith("16-bit legacy interface ports", p)) {
          rec.cardbus = true;
          return;
        }
        break;
      default:
        if (isHexDigit(c) && this.#hexLine(s, p)) return;
    }
    if (cap) capDetail(cap, this.#detail, s, p, false);
  }

  #capHeader(rec: FunctionRecord, s: string, p: number, line: number): void {
    if (rec.level < 1) rec.level = 1;
    this.#detail.reg = REG_NONE;
    const h = parseCapHeader(s, p, line);
    if (!h || h.kind === "broken") {
      this.#cap = undefined;
      return;
    }
    if (h.kind === "denied") {
      rec.capsDenied = true;
      this.#cap = undefined;
      return;
    }
    rec.caps.push(h.cap);
    if (h.cap.space === "extended") this.dumps[rec.dump]!.extendedSeen = true;
    this.#cap = h.cap;
    this.#detail = newDetailState();
  }

  /** `-vmm`: `Key:\tvalue` lines */
  #machineDetail(rec: FunctionRecord, s: string, p: number): void {
    const colon = s.indexOf(":", p);
    if (colon < 0) return;
    const key = s.slice(p, colon);
    if (!MACHINE_KEYS.has(key)) return;
    const value = s.slice(colon + 1).trim();
    const bracket = /\[([0-9a-fA-F]{4})\]$/.exec(value);
    const num = bracket ? parseInt(bracket[1]!, 16) : /^[0-9a-fA-F]{4}$/.test(value) ? parseInt(value, 16) : undefined;
    switch (key) {
      case "Class":
        rec.classText = value.replace(/\s*\[[0-9a-fA-F]{4}\]$/, "");
        rec.classBase = num ?? parseDeviceRest(`${value}: x`)?.classBase;
        rec.classByName = num === undefined;
        return;
      case "Vendor":
        if (num !== undefined) rec.vendor = num;
        else rec.vendorName = value;
        return;
      case "Device":
        if (num !== undefined) rec.device = num;
        else rec.deviceName = value;
        return;
      case "SVendor":
        if (num !== undefined) rec.subsystemVendor = num;
        return;
      case "SDevice":
        if (num !== undefined) rec.subsystemDevice = num;
        return;
      case "Rev":
        rec.revision = hexAt(value, 0, 2)?.[0];
        return;
      case "ProgIf":
        rec.progIf = hexAt(value, 0, 2)?.[0];
        return;
      case "Driver":
        rec.driver = value;
        return;
      case "IOMMUGroup": {
        const g = parseInt(value, 10);
        if (Number.isFinite(g)) rec.group = g;
        return;
      }
      default:
    }
  }
}

function count(text: string, code: number): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === code) n++;
  return n;
}

/** detail lines whose first word is not `Key:` */
const DETAIL_STARTS = ["Kernel ", "Physical Slot:", "NUMA node:", "IOMMU group:", "!!!", "Region ", "Memory at ", "I/O ports at ", "Expansion ROM "];

/** a detail key (`Subsystem:`, `Kernel driver in use:` …), not the wrapped rest of a device line */
function startsKey(s: string, p: number): boolean {
  for (const k of DETAIL_STARTS) if (s.startsWith(k, p)) return true;
  return startsNewKey(s, p);
}

function definedOnly(facts: DeviceFacts): DeviceFacts {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(facts)) if (v !== undefined) out[k] = v;
  return out as DeviceFacts;
}

/** reads the whole text into dumps of records and tree nodes */
export function scanLspci(text: string): ScanResult {
  // web pages turn spaces and tabs into no-break spaces
  const plain = text.indexOf("\u00a0") >= 0 ? text.replace(/\u00a0/g, " ") : text;
  return new Scanner().run(plain);
}
