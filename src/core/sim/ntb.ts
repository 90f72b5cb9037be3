/**
 * A non-transparent bridge between hosts (hw-models.md §1.2–1.5, §1.7):
 * one partition per host NT endpoint, each with a requester-ID table
 * (slot → admitted local requester ID, hardware-fixed proxy devfn) and
 * windows on the NT endpoint's BARs that lead into another partition
 * (direct: one translated base; LUT: one entry per slice). A request that
 * crosses needs an enabled slot for its requester ID and leaves the
 * switch as (destination NT endpoint's bus, slot's proxy devfn).
 */
import { imageFromPartitions } from "../switchtec/from-partitions.js";
import type { GasImage } from "../switchtec/gas-image.js";
import { REQ_ID_EN, REQ_ID_PROXY_SHIFT, REQ_ID_RID_SHIFT, REQ_ID_TABLE_MAX } from "../switchtec/regs.js";
import type { Topology } from "../topology/model.js";
import { devId, formatBdf, formatDevfn, formatRid, parseBdf } from "../topology/address.js";
import type { ScenarioProblem } from "./parse-scenario.js";
import { MAX_ADDRESS, parseDevfnText } from "./scenario-schema.js";
import type { NtbSpec } from "./scenario-schema.js";

export type NtbChip = "switchtec" | "plx";

export interface NtSlot {
  readonly index: number;
  /** the local requester ID the slot admits; undefined: never programmed */
  readonly rid: number | undefined;
  readonly proxy: number;
  readonly enabled: boolean;
}

export interface LutEntry {
  readonly target: number;
  readonly xlate: number;
  readonly enabled: boolean;
}

export interface NtWindow {
  readonly index: number;
  readonly bar: number;
  readonly base: number;
  readonly size: number;
  readonly kind: "direct" | "lut";
  /** direct: destination partition and translated base */
  readonly target: number;
  readonly xlate: number;
  /** lut: bytes per entry and the programmed entries */
  readonly entrySize: number;
  readonly entries: ReadonlyMap<number, LutEntry>;
}

export interface NtPartition {
  readonly id: number;
  readonly host: string;
  /** the NT endpoint's BDF in its host */
  readonly nt: string;
  readonly segment: number;
  readonly ntBus: number;
  /** req_id_table_size as it reads */
  readonly tableSize: number;
  readonly slots: readonly NtSlot[];
  readonly windows: readonly NtWindow[];
}

/** where a window leads for one offset */
export interface WindowHit {
  readonly target: number;
  readonly address: number;
  readonly lutIndex: number | undefined;
  readonly enabled: boolean;
}

/** the Switchtec vendors and NT endpoint class the quirk and driver accept */
const SWITCHTEC_VENDORS: readonly number[] = [0x11f8, 0x1055];
const NT_CLASS = 0x0680;
const DEFAULT_LUT_SIZE = 0x10000;
const PAGE = 4096;

/** the proxy devfn a slot gets when the scenario does not say: 0x80 + 8 × partition + slot (hardware assigns them; any fixed map will do) */
export const defaultProxy = (partition: number, slot: number): number => (0x80 + 8 * partition + slot) & 0xff;

export class NtbSwitch {
  readonly chip: NtbChip;
  readonly partitions: ReadonlyMap<number, NtPartition>;

  constructor(chip: NtbChip, partitions: readonly NtPartition[]) {
    this.chip = chip;
    this.partitions = new Map(partitions.map((p) => [p.id, p]));
  }

  /** the partition whose NT endpoint is `bdf` in `host` */
  partitionAt(host: string, bdf: string): NtPartition | undefined {
    for (const p of this.partitions.values()) if (p.host === host && p.nt === bdf) return p;
    return undefined;
  }

  /** the enabled slot of a partition's table that admits `rid`, as the switch matches it */
  admit(partition: NtPartition, rid: number): NtSlot | undefined {
    return partition.slots.find((s) => s.enabled && s.rid === (rid & 0xffff));
  }

  /** where offset `offset` of a window leads */
  translate(w: NtWindow, offset: number): WindowHit {
    if (w.kind === "direct") return { target: w.target, address: w.xlate + offset, lutIndex: undefined, enabled: true };
    const index = Math.floor(offset / w.entrySize);
    const e = w.entries.get(index);
    if (!e) return { target: -1, address: 0, lutIndex: index, enabled: false };
    return { target: e.target, address: e.xlate + (offset % w.entrySize), lutIndex: index, enabled: e.enabled };
  }

  /**
   * The BAR0 ranges the Switchtec quirk reads on partition `own`'s NT
   * endpoint: ntb_info (own id, every partition in ep_map) and each other
   * partition's req_id_table_size and table, entries as the hardware
   * holds them (rid << 16 | proxy << 1 | EN).
   */
  gasImage(own: number): GasImage {
    const partitions: Record<number, { requesterIds: number[]; tableSize: number }> = {};
    for (const p of this.partitions.values()) {
      if (p.id === own) continue;
      partitions[p.id] = {
        requesterIds: p.slots.map((s) => (((s.rid ?? 0) << REQ_ID_RID_SHIFT) | (s.proxy << REQ_ID_PROXY_SHIFT) | (s.enabled ? REQ_ID_EN : 0)) >>> 0),
        tableSize: p.tableSize,
      };
    }
    return imageFromPartitions({ ownPartition: own, partitions });
  }
}

/** what the NTB builder needs to know about a host */
export interface NtbHostView {
  readonly topology: Topology;
}

const isPow2 = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && Math.log2(n) % 1 === 0;

/**
 * Checks an `ntb:` section against the hosts and builds the switch.
 * Impossible configurations are problems: unknown hosts or functions, a
 * requester ID registered twice in one table, proxy IDs that two slots
 * share or that an existing function already has, malformed windows.
 */
export function buildNtb(
  spec: NtbSpec,
  hosts: ReadonlyMap<string, NtbHostView>,
  lineOf: (path: readonly (string | number)[]) => number,
): { ntb: NtbSwitch | undefined; problems: ScenarioProblem[] } {
  const problems: ScenarioProblem[] = [];
  const at = (path: readonly (string | number)[], message: string): void => {
    const text = path.reduce<string>((acc, k) => (typeof k === "number" ? `${acc}[${k}]` : acc ? `${acc}.${k}` : String(k)), "");
    problems.push({ line: lineOf(path), path: text, message });
  };
  const out: NtPartition[] = [];
  const seen = new Map<number, number>();

  spec.partitions.forEach((ps, pi) => {
    const base = ["ntb", "partitions", pi] as const;
    const first = seen.get(ps.id);
    if (first !== undefined) return at([...base, "id"], `partition ${ps.id} is declared twice (first as ntb.partitions[${first}])`);
    seen.set(ps.id, pi);
    const host = hosts.get(ps.host);
    if (!host) return at([...base, "host"], `no host '${ps.host}' in hosts:; name one of ${[...hosts.keys()].join(", ")}`);
    const a = parseBdf(ps.nt)!;
    const bdf = formatBdf(a.segment, a.bus, a.devfn);
    const fn = host.topology.functions.get(bdf);
    if (!fn) return at([...base, "nt"], `host '${ps.host}' has no function ${bdf}; the NT endpoint must be one of its devices`);
    if (spec.chip === "switchtec" && (!SWITCHTEC_VENDORS.includes(fn.vendor) || fn.classCode >> 8 !== NT_CLASS)) {
      return at([...base, "nt"], `${bdf} on host '${ps.host}' is not a Switchtec NT endpoint: give it id 11f8:xxxx (or 1055:xxxx) and class "068000"`);
    }
    if (out.some((p) => p.host === ps.host && p.nt === bdf)) return at([...base, "nt"], `${bdf} on host '${ps.host}' is already the NT endpoint of another partition`);

    // the requester-ID table
    const slots: NtSlot[] = [];
    const byRid = new Map<number, number>();
    ps.requester_ids.forEach((s, si) => {
      const rid = s.rid === undefined ? undefined : (() => {
        const r = parseBdf(s.rid)!;
        return devId(r.bus, r.devfn);
      })();
      const enabled = s.enabled ?? rid !== undefined;
      if (enabled && rid === undefined) at([...base, "requester_ids", si], "an enabled slot needs the requester ID it admits (rid:)");
      if (enabled && rid !== undefined) {
        const dup = byRid.get(rid);
        if (dup !== undefined) at([...base, "requester_ids", si, "rid"], `requester-ID collision: ${formatRid(rid)} is already admitted by slot ${dup} of partition ${ps.id}; the driver registers a requester ID once`);
        else byRid.set(rid, si);
      }
      slots.push({ index: si, rid, proxy: s.proxy === undefined ? defaultProxy(ps.id, si) : parseDevfnText(s.proxy), enabled });
    });
    const tableSize = ps.table_size ?? slots.length;
    if (tableSize > slots.length && tableSize <= REQ_ID_TABLE_MAX) {
      at([...base, "table_size"], `table_size ${tableSize} is more than the ${slots.length} slots listed: list every slot (an unprogrammed one as { proxy: "dd.f" })`);
    }

    // windows
    const windows: NtWindow[] = [];
    ps.windows.forEach((w, wi) => {
      const wp = [...base, "windows", wi];
      const fail = (field: string | undefined, message: string): void => at(field ? [...wp, field] : wp, message);
      if (w.size === 0 || w.size % PAGE !== 0) return fail("size", "a window is a whole number of 4 KiB pages");
      if (w.base % PAGE !== 0) return fail("base", "a window starts on a 4 KiB boundary");
      if (w.base + w.size > MAX_ADDRESS) return fail("size", "the window ends beyond 2^53, which the model cannot hold exactly");
      if (w.kind === "direct") {
        if (w.entries !== undefined || w.entry_size !== undefined) return fail(undefined, "entries: and entry_size: belong to kind: lut windows");
        if (w.target === undefined || w.xlate === undefined) return fail(undefined, "a direct window needs target: (the partition it leads to) and xlate: (the address there)");
        if (w.xlate % PAGE !== 0) return fail("xlate", "xlate must be 4 KiB aligned: the low bits of xlate_addr hold the target partition");
        if (w.xlate + w.size > MAX_ADDRESS) return fail("xlate", "the translated range ends beyond 2^53, which the model cannot hold exactly");
        windows.push({ index: wi, bar: w.bar, base: w.base, size: w.size, kind: "direct", target: w.target, xlate: w.xlate, entrySize: 0, entries: new Map() });
        return;
      }
      if (w.target !== undefined || w.xlate !== undefined) return fail(undefined, "a lut window takes its targets from entries:, not target:/xlate:");
      const entrySize = w.entry_size ?? DEFAULT_LUT_SIZE;
      if (entrySize < PAGE || !isPow2(entrySize)) return fail("entry_size", "a LUT entry is a power of two of at least 4 KiB");
      if (w.size % entrySize !== 0) return fail("size", `a LUT window is a whole number of ${entrySize}-byte entries`);
      const count = w.size / entrySize;
      if (count > 512) return fail("size", `${count} LUT entries; the switch has at most 512`);
      const entries = new Map<number, LutEntry>();
      (w.entries ?? []).forEach((e, ei) => {
        const ep = [...wp, "entries", ei];
        if (e.index >= count) return at([...ep, "index"], `entry ${e.index} is past the window's ${count} entries`);
        if (entries.has(e.index)) return at([...ep, "index"], `entry ${e.index} is programmed twice`);
        if (e.xlate % entrySize !== 0) return at([...ep, "xlate"], `a LUT entry's address is aligned to the entry size (${entrySize})`);
        entries.set(e.index, { target: e.target, xlate: e.xlate, enabled: e.enabled });
      });
      windows.push({ index: wi, bar: w.bar, base: w.base, size: w.size, kind: "lut", target: -1, xlate: 0, entrySize, entries });
    });

    out.push({ id: ps.id, host: ps.host, nt: bdf, segment: a.segment, ntBus: a.bus, tableSize, slots, windows });
  });
  if (problems.length > 0) return { ntb: undefined, problems };

  // targets exist and are other partitions
  const ids = new Set(out.map((p) => p.id));
  spec.partitions.forEach((ps, pi) => {
    ps.windows.forEach((w, wi) => {
      const wp = ["ntb", "partitions", pi, "windows", wi];
      const check = (target: number, path: (string | number)[]): void => {
        if (!ids.has(target)) at(path, `partition ${target} is not declared in ntb.partitions`);
        else if (target === ps.id) at(path, `a window leads to another partition, not back into partition ${ps.id}`);
      };
      if (w.kind === "direct" && w.target !== undefined) check(w.target, [...wp, "target"]);
      (w.entries ?? []).forEach((e, ei) => check(e.target, [...wp, "entries", ei, "target"]));
    });
  });

  // proxies arriving at each partition's NT bus must be told apart, and must not be real functions there
  for (const dest of out) {
    const topology = hosts.get(dest.host)!.topology;
    const used = new Map<number, string>();
    spec.partitions.forEach((ps, pi) => {
      if (ps.id === dest.id) return;
      const p = out.find((x) => x.id === ps.id)!;
      for (const s of p.slots) {
        const path = ["ntb", "partitions", pi, "requester_ids", s.index];
        const here = `slot ${s.index} of partition ${p.id}`;
        const other = used.get(s.proxy);
        const rid = devId(dest.ntBus, s.proxy);
        if (other !== undefined) {
          at(path, `requester-ID collision: proxy ${formatDevfn(s.proxy)} of ${here} is also the proxy of ${other}; both would reach partition ${dest.id} as ${formatRid(rid)}`);
        } else if (topology.functions.has(formatBdf(dest.segment, dest.ntBus, s.proxy))) {
          at(path, `requester-ID collision: proxy ${formatDevfn(s.proxy)} of ${here} reaches host '${dest.host}' as ${formatRid(rid)}, which is an existing function there`);
        }
        used.set(s.proxy, here);
      }
    });
  }
  if (problems.length > 0) return { ntb: undefined, problems };
  return { ntb: new NtbSwitch(spec.chip, out), problems };
}
