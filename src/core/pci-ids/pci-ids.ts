/**
 * The PCI ID database (pci.ids, https://pci-ids.ucw.cz/): vendor, device,
 * subsystem and class names, and the way back from a name as lspci prints it
 * (`Intel Corporation Sunrise Point-LP PCI Express Root Port #1`) to its ids.
 *
 * Isomorphic: built from the file's text; the caller finds the file.
 * File format: `vvvv  Vendor`, then `\tdddd  Device`, `\t\tssss ssss  Subsystem`;
 * `C cc  Class`, then `\tss  Subclass`, `\t\tpp  Prog-if`; `#` comments.
 */

export interface IdMatch {
  readonly vendor: number;
  /** undefined when only the vendor was recognised (`Intel Corporation Device 1234` gives the device from the text) */
  readonly device: number;
}

/** what a printed `Vendor Device` name maps back to */
export type NameLookup =
  | { readonly kind: "unique"; readonly match: IdMatch }
  | { readonly kind: "ambiguous"; readonly matches: readonly IdMatch[] }
  /** no exact name: the vendor's closest device names (renamed since the printing lspci's database), best first */
  | { readonly kind: "approximate"; readonly matches: readonly IdMatch[]; readonly names: readonly string[] }
  | { readonly kind: "unknown" };

/**
 * One vendor's block of the file. Its devices and subsystems are read on
 * first use: a command names a few dozen vendors out of thousands, and
 * reading only the vendor lines keeps start-up short.
 */
class VendorEntry {
  #devices: Map<number, string> | undefined;
  /** device name → ids, built on first use */
  byName?: Map<string, number[]>;

  constructor(
    readonly name: string,
    private readonly id: number,
    /** the file's text and the block of lines below the vendor line */
    private readonly text: string,
    private readonly start: number,
    private readonly end: number,
    private readonly subsystems: Map<string, string>,
  ) {}

  get devices(): Map<number, string> {
    this.#devices ??= this.#read(false);
    return this.#devices;
  }

  /** one device's name, found by searching the block for its line (the last, as reading the block keeps) */
  deviceName(device: number): string | undefined {
    if (this.#devices) return this.#devices.get(device);
    const text = this.text;
    const line = lastLine(text, "\t", device, this.start, this.end);
    if (line < 0) return undefined;
    let end = text.indexOf("\n", line);
    if (end < 0 || end > this.end) end = this.end;
    return text.slice(line + 5, end).trim();
  }

  /** reads the subsystem lines too (most commands never ask for them) */
  readSubsystems(): void {
    if (this.#subsystemsRead) return;
    this.#subsystemsRead = true;
    this.#read(true);
  }

  #subsystemsRead = false;

  /** the block's device lines; with `subsystems`, its subsystem lines into the shared map instead */
  #read(subsystems: boolean): Map<number, string> {
    const devices = new Map<number, string>();
    const text = this.text;
    let device = 0;
    let start = this.start;
    while (start < this.end) {
      let end = text.indexOf("\n", start);
      if (end < 0 || end > this.end) end = this.end;
      const lineStart = start;
      start = end + 1;
      if (text.charCodeAt(lineStart) !== 9 /* tab */) continue;
      const two = text.charCodeAt(lineStart + 1) === 9;
      if (two && !subsystems) continue;
      let line = text.slice(lineStart, end);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      const body = line.slice(two ? 2 : 1);
      if (!two) {
        const id = body.slice(0, 4);
        if (!HEX4.test(id)) continue;
        device = parseInt(id, 16);
        if (!subsystems) devices.set(device, body.slice(4).trim());
      } else {
        const sv = body.slice(0, 4);
        const sd = body.slice(5, 9);
        if (!HEX4.test(sv) || !HEX4.test(sd)) continue;
        this.subsystems.set(subKey(this.id, device, parseInt(sv, 16), parseInt(sd, 16)), body.slice(9).trim());
      }
    }
    return devices;
  }
}

/** offset just past the block of tab-indented lines (comments and blank lines included) starting at `start` */
function blockEnd(text: string, start: number): number {
  let pos = start;
  while (pos < text.length) {
    const c = text.charCodeAt(pos);
    if (c !== 9 && c !== 35 /* # */ && c !== 10 && c !== 13) return pos;
    const nl = text.indexOf("\n", pos);
    if (nl < 0) return text.length;
    pos = nl + 1;
  }
  return pos;
}

const HEX4 = /^[0-9a-fA-F]{4}$/;

/**
 * Where the last line in [lo, hi) that is `indent` and then `id` as four hex
 * digits (either case) starts, or -1: a lookup without reading the file,
 * answering as a full read would (a later line for the same ID wins).
 */
function lastLine(text: string, indent: string, id: number, lo: number, hi: number): number {
  let best = -1;
  for (const hex of [hex4(id), hex4(id).toUpperCase()]) {
    const key = `${indent}${hex}`;
    const at = text.lastIndexOf(`\n${key}`, hi - 1);
    const line = at >= 0 ? at + 1 : text.startsWith(key) ? 0 : -1;
    if (line >= lo && line < hi && line > best) best = line;
  }
  return best;
}

export class PciIds {
  readonly #text: string;
  /** every vendor, read on first use by a question that needs them all (names back to ids) */
  #all: Map<number, VendorEntry> | undefined;
  /** vendors looked up one by one before that (null: not in the file) */
  readonly #found = new Map<number, VendorEntry | null>();
  readonly #subsystems = new Map<string, string>();
  /** keyed `cc`, `ccss`, `ccsspp` in hex, read on first use */
  #classMap: Map<string, string> | undefined;
  /** class and subclass names → base << 8 | sub, built on first use */
  #classNames: Map<string, number> | undefined;
  /** first word of a vendor name → vendors, built on first use */
  #vendorsByWord: Map<string, number[]> | undefined;
  /** the `Version:` line of the file's header, if any */
  readonly version: string | undefined;

  private constructor(text: string, version: string | undefined) {
    this.#text = text;
    this.version = version;
  }

  /**
   * reads pci.ids text; lines it does not understand are skipped. Nothing is
   * parsed until asked: a command names a handful of vendors and classes, and
   * each is found by searching the text for its line.
   */
  static parse(text: string): PciIds {
    const version = /^#\s*Version:\s*(\S+)/m.exec(text.slice(0, 2000))?.[1];
    return new PciIds(text, version);
  }

  /** whether the text has any vendor line (a cheap check that it is pci.ids at all) */
  get hasVendors(): boolean {
    return /^[0-9a-fA-F]{4}/m.test(this.#text);
  }

  get vendorCount(): number {
    return this.#vendors.size;
  }

  /** every vendor line of the file (a later line for the same id wins) */
  get #vendors(): Map<number, VendorEntry> {
    if (this.#all) return this.#all;
    const all = new Map<number, VendorEntry>();
    const text = this.#text;
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      const lineStart = start;
      start = end + 1;
      const c = text.charCodeAt(lineStart);
      if (c === 9 || c === 35 || c === 10 || c === 13 || lineStart === end) continue;
      const id = text.slice(lineStart, lineStart + 4);
      if (!HEX4.test(id)) continue;
      const vendorId = parseInt(id, 16);
      all.set(vendorId, this.#entryAt(vendorId, lineStart, end));
      // the vendor's device lines are read when first asked for
      start = blockEnd(text, start);
    }
    this.#all = all;
    return all;
  }

  /** the vendor whose line runs from `lineStart` to `lineEnd` */
  #entryAt(id: number, lineStart: number, lineEnd: number): VendorEntry {
    const text = this.#text;
    const blockStart = Math.min(lineEnd + 1, text.length);
    return new VendorEntry(text.slice(lineStart + 4, lineEnd).trim(), id, text, blockStart, blockEnd(text, blockStart), this.#subsystems);
  }

  /** one vendor, found by searching for its line (the last such line, as a full read keeps) */
  #vendor(id: number): VendorEntry | undefined {
    if (this.#all) return this.#all.get(id);
    let v = this.#found.get(id);
    if (v === undefined) {
      v = null;
      const text = this.#text;
      const lineStart = lastLine(text, "", id, 0, text.length);
      if (lineStart >= 0) {
        let end = text.indexOf("\n", lineStart);
        if (end < 0) end = text.length;
        v = this.#entryAt(id, lineStart, end);
      }
      this.#found.set(id, v);
    }
    return v ?? undefined;
  }

  /** the class section: `C cc` lines and the tab lines below them */
  get #classes(): Map<string, string> {
    if (this.#classMap) return this.#classMap;
    const classes = new Map<string, string>();
    const text = this.#text;
    // from the first class line to the end (the section sits at the end of the file)
    const first = text.startsWith("C ") ? 0 : text.indexOf("\nC ");
    let start = first < 0 ? text.length : first;
    let inClasses = false;
    let cls = -1;
    let sub = -1;
    while (start < text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      let line = text.slice(start, end);
      start = end + 1;
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) continue;
      if (line.charCodeAt(0) !== 9 /* tab */) {
        inClasses = line.startsWith("C ");
        if (inClasses) {
          cls = parseInt(line.slice(2, 4), 16);
          sub = -1;
          classes.set(hex2(cls), line.slice(4).trim());
        }
        continue;
      }
      if (!inClasses) continue;
      const two = line.charCodeAt(1) === 9;
      const body = line.slice(two ? 2 : 1);
      const n = parseInt(body.slice(0, 2), 16);
      if (Number.isNaN(n)) continue;
      if (!two) {
        sub = n;
        classes.set(hex2(cls) + hex2(sub), body.slice(2).trim());
      } else if (sub >= 0) classes.set(hex2(cls) + hex2(sub) + hex2(n), body.slice(2).trim());
    }
    this.#classMap = classes;
    return classes;
  }

  vendorName(vendor: number): string | undefined {
    return this.#vendor(vendor)?.name;
  }

  deviceName(vendor: number, device: number): string | undefined {
    return this.#vendor(vendor)?.deviceName(device);
  }

  subsystemName(vendor: number, device: number, subVendor: number, subDevice: number): string | undefined {
    this.#vendor(vendor)?.readSubsystems();
    return this.#subsystems.get(subKey(vendor, device, subVendor, subDevice));
  }

  /**
   * The class name lspci prints for a 24-bit class code: the subclass name
   * when pci.ids has one, else the base class name; undefined when neither.
   */
  className(classCode: number): string | undefined {
    const base = (classCode >> 16) & 0xff;
    const sub = (classCode >> 8) & 0xff;
    return this.#classes.get(hex2(base) + hex2(sub)) ?? this.#classes.get(hex2(base));
  }

  /**
   * base << 8 | sub for a class name as lspci prints it (a subclass name, or
   * a class name when lspci knew no subclass: then its `80` "other"
   * subclass, else `00`); undefined when the database has no such name.
   */
  classByName(name: string): number | undefined {
    if (!this.#classNames) {
      const m = new Map<string, number>();
      for (const [key, n] of this.#classes) if (key.length === 4 && !m.has(n)) m.set(n, parseInt(key, 16));
      for (const [key, n] of this.#classes) {
        if (key.length !== 2 || m.has(n)) continue;
        m.set(n, (parseInt(key, 16) << 8) | (this.#classes.has(`${key}80`) ? 0x80 : 0));
      }
      this.#classNames = m;
    }
    return this.#classNames.get(name);
  }

  /** the prog-if name, e.g. `AHCI 1.0` for 010601 */
  progIfName(classCode: number): string | undefined {
    return this.#classes.get(hex2((classCode >> 16) & 0xff) + hex2((classCode >> 8) & 0xff) + hex2(classCode & 0xff));
  }

  /**
   * Maps a name as lspci prints it without `-nn` (`Vendor Device`, or the
   * vendor and device apart as `-mm` prints them) back to ids. Understands
   * lspci's own fallbacks for ids it has no name for: `Vendor Device 1234`
   * and `Device 8086:1234`.
   */
  lookupByName(name: string, deviceName?: string): NameLookup {
    const text = name.trim();
    const raw = /^Device ([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$/.exec(text);
    if (raw && deviceName === undefined) return { kind: "unique", match: { vendor: parseInt(raw[1]!, 16), device: parseInt(raw[2]!, 16) } };
    const matches: IdMatch[] = [];
    const vendors = deviceName === undefined ? this.#vendorPrefixes(text) : [...this.#vendorsNamed(text)].map((v) => [v, deviceName.trim()] as const);
    for (const [v, rest] of vendors) {
      const numeric = /^Device ([0-9a-fA-F]{4})$/.exec(rest);
      if (numeric) {
        matches.push({ vendor: v, device: parseInt(numeric[1]!, 16) });
        continue;
      }
      for (const d of this.#devicesNamed(v, rest)) matches.push({ vendor: v, device: d });
    }
    if (matches.length === 1) return { kind: "unique", match: matches[0]! };
    if (matches.length > 1) return { kind: "ambiguous", matches };
    return this.#closest(vendors);
  }

  /**
   * Names change between database versions ("7 Series/C210 Series Chipset
   * Family …" became "7 Series/C216 Chipset Family …"): the vendor's device
   * names sharing most words with the printed one, when they share at least
   * half of all words. Ties are all returned.
   */
  #closest(vendors: readonly (readonly [number, string])[]): NameLookup {
    let best = 0.5;
    let matches: IdMatch[] = [];
    let names: string[] = [];
    for (const [v, rest] of vendors) {
      const want = tokens(rest);
      if (want.size === 0) continue;
      for (const [d, name] of this.#vendor(v)?.devices ?? []) {
        const have = tokens(name);
        let common = 0;
        for (const t of want) if (have.has(t)) common++;
        const score = common / (want.size + have.size - common);
        if (score > best + 1e-9) {
          best = score;
          matches = [{ vendor: v, device: d }];
          names = [name];
        } else if (Math.abs(score - best) <= 1e-9 && matches.length > 0) {
          matches.push({ vendor: v, device: d });
          names.push(name);
        }
      }
    }
    return matches.length === 0 ? { kind: "unknown" } : { kind: "approximate", matches, names };
  }

  #words(): Map<string, number[]> {
    if (!this.#vendorsByWord) {
      const m = new Map<string, number[]>();
      for (const [id, v] of this.#vendors) {
        const w = firstWord(v.name);
        const list = m.get(w);
        if (list) list.push(id);
        else m.set(w, [id]);
      }
      this.#vendorsByWord = m;
    }
    return this.#vendorsByWord;
  }

  #vendorsNamed(name: string): number[] {
    return (this.#words().get(firstWord(name)) ?? []).filter((id) => this.#vendors.get(id)!.name === name);
  }

  /** vendors whose name starts the text, with the rest of the text */
  #vendorPrefixes(text: string): (readonly [number, string])[] {
    const out: (readonly [number, string])[] = [];
    for (const id of this.#words().get(firstWord(text)) ?? []) {
      const name = this.#vendors.get(id)!.name;
      if (text.length > name.length + 1 && text.startsWith(name) && text.charCodeAt(name.length) === 32) out.push([id, text.slice(name.length + 1).trim()]);
    }
    return out;
  }

  #devicesNamed(vendor: number, name: string): number[] {
    const v = this.#vendor(vendor);
    if (!v) return [];
    if (!v.byName) {
      const m = new Map<string, number[]>();
      for (const [d, n] of v.devices) {
        const list = m.get(n);
        if (list) list.push(d);
        else m.set(n, [d]);
      }
      v.byName = m;
    }
    return v.byName.get(name) ?? [];
  }
}

function tokens(s: string): Set<string> {
  return new Set(s.toLowerCase().split(/[\s/,()[\]]+/).filter((t) => t.length > 0 && t !== "#"));
}

function firstWord(s: string): string {
  const i = s.indexOf(" ");
  return i < 0 ? s : s.slice(0, i);
}

const subKey = (v: number, d: number, sv: number, sd: number): string => `${v}:${d}:${sv}:${sd}`;
const hex2 = (n: number): string => n.toString(16).padStart(2, "0");
const hex4 = (n: number): string => n.toString(16).padStart(4, "0");
