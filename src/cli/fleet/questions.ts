/**
 * The fleet questions: each reads the store (sql.ts) and returns plain
 * data; the command renders it as text, JSON or CSV.
 */
import { snapshotFromSysfs } from "../../core/sources/from-sysfs.js";
import type { Snapshot } from "../../core/sources/snapshot.js";
import { DEVICE_KINDS, parsePartition, partitionText } from "../../core/fleet/facts.js";
import type { DeviceKind } from "../../core/fleet/facts.js";
import { predict } from "../../core/iommu/predict.js";
import type { Prediction, PredictOptions } from "../../core/iommu/predict.js";
import { compareGroups, whatIfSides } from "../../core/iommu/whatif.js";
import type { GroupChange, GroupPartition } from "../../core/iommu/whatif.js";
import { formatKernel } from "../../core/kernel/version.js";
import { hex4 } from "../../core/names.js";
import type { Selector } from "../../core/plan/select.js";
import { formatSelector } from "../../core/plan/select.js";
import { decodeArchive } from "../sysfs/archive.js";
import type { Queryable } from "./db.js";
import {
  COUNT_HOSTS,
  SELECT_BOARDS,
  SELECT_FUNCTIONS_BY_CLASS,
  SELECT_FUNCTIONS_BY_ID,
  SELECT_HOST_BOOTS,
  SELECT_HOSTS,
  SELECT_MACHINE_TREES,
  SELECT_RISKS,
} from "./sql.js";

export interface HostRow {
  name: string;
  hostname: string | null;
  sys_vendor: string | null;
  product_name: string | null;
  board_vendor: string | null;
  board_name: string | null;
  bios_vendor: string | null;
  bios_version: string | null;
  bios_date: string | null;
  osrelease: string | null;
  kernel: string;
  iommu: string;
  group_count: number;
  largest_group: number;
  acs_override: string | null;
}

export interface HostJson {
  name: string;
  hostname: string | null;
  system: { vendor: string | null; product: string | null };
  board: { vendor: string | null; name: string | null };
  bios: { vendor: string | null; version: string | null; date: string | null };
  /** the kernel modelled, `6.1`; osrelease as captured */
  kernel: string;
  osrelease: string | null;
  iommu: string;
  groups: number;
  largestGroup: number;
  /** the pcie_acs_override value, null when not in use */
  acsOverride: string | null;
}

/** `fleet hosts` */
export async function fleetHosts(db: Queryable): Promise<HostJson[]> {
  return (await db.query<HostRow>(SELECT_HOSTS)).map((r) => ({
    name: r.name,
    hostname: r.hostname,
    system: { vendor: r.sys_vendor, product: r.product_name },
    board: { vendor: r.board_vendor, name: r.board_name },
    bios: { vendor: r.bios_vendor, version: r.bios_version, date: r.bios_date },
    kernel: r.kernel,
    osrelease: r.osrelease,
    iommu: r.iommu,
    groups: r.group_count,
    largestGroup: r.largest_group,
    acsOverride: r.acs_override,
  }));
}

interface FunctionRow {
  host: string;
  bdf: string;
  vendor: number;
  device: number;
  class: number;
  grp: number | null;
  alone: boolean;
  reason: string | null;
}

export interface AloneJson {
  selector: string;
  /** hosts in the fleet */
  fleetHosts: number;
  hosts: {
    name: string;
    /** at least one matching function can go to a VM alone */
    alone: boolean;
    functions: { bdf: string; vendor: string; device: string; class: string; group: number | null; alone: boolean; reason: string | null }[];
  }[];
}

/** `fleet alone SELECTOR`: hosts with a matching function, and whether it can go to a VM alone */
export async function fleetAlone(db: Queryable, sel: Exclude<Selector, { kind: "bdf" }>): Promise<AloneJson> {
  const rows =
    sel.kind === "id"
      ? await db.query<FunctionRow>(SELECT_FUNCTIONS_BY_ID, [sel.vendor, sel.device])
      : await db.query<FunctionRow>(SELECT_FUNCTIONS_BY_CLASS, [24 - 4 * sel.digits, sel.code]);
  const hosts: AloneJson["hosts"] = [];
  for (const r of rows) {
    let h = hosts.at(-1);
    if (h?.name !== r.host) hosts.push((h = { name: r.host, alone: false, functions: [] }));
    h.functions.push({
      bdf: r.bdf,
      vendor: hex4(r.vendor),
      device: hex4(r.device),
      class: r.class.toString(16).padStart(6, "0"),
      group: r.grp,
      alone: r.alone,
      reason: r.reason,
    });
    h.alone ||= r.alone;
  }
  const [count] = await db.query<{ n: number }>(COUNT_HOSTS);
  return { selector: formatSelector(sel), fleetHosts: count?.n ?? 0, hosts };
}

export interface WhatIfChange {
  readonly kernel?: string | undefined;
  readonly cmdline?: string | undefined;
  readonly options: PredictOptions;
}

export interface WhatIfJson {
  change: { kernel: string | null; cmdline: string | null };
  /** hosts looked at */
  fleetHosts: number;
  /** hosts whose groups would change */
  hosts: { name: string; acsMode: "captured" | "boot"; groupsBefore: number; groupsAfter: number; changes: GroupChange[] }[];
  /** distinct machine × boot combinations predicted */
  predictions: number;
}

interface BootRow {
  name: string;
  machine_hash: string;
  osrelease: string | null;
  cmdline: string | null;
  partition: string;
}

/**
 * `fleet whatif`: every host's groups under the change, recomputed from its
 * stored machine tree. The groups before are the stored ones unless the
 * change makes both sides model ACS from boot; hosts that share the machine
 * and whatever of their boot the change leaves in place are computed once.
 */
export async function fleetWhatIf(db: Queryable, change: WhatIfChange): Promise<WhatIfJson> {
  const boots = await db.query<BootRow>(SELECT_HOST_BOOTS);
  const machines = [...new Set(boots.map((b) => b.machine_hash))];
  const trees = new Map<string, Uint8Array>();
  for (const r of await db.query<{ hash: string; tree: Uint8Array }>(SELECT_MACHINE_TREES, [machines])) trees.set(r.hash, r.tree);
  const snapshots = new Map<string, Snapshot>();
  const machineSnapshot = (hash: string): Snapshot => {
    let s = snapshots.get(hash);
    if (!s) snapshots.set(hash, (s = snapshotFromSysfs(decodeArchive(trees.get(hash)!, `stored machine ${hash.slice(0, 12)}`))));
    return s;
  };
  const afters = new Map<string, Prediction>();
  const befores = new Map<string, Prediction>();
  const hosts: WhatIfJson["hosts"] = [];
  for (const b of boots) {
    const snapshot: Snapshot = { ...machineSnapshot(b.machine_hash), osrelease: b.osrelease ?? undefined, cmdline: b.cmdline ?? undefined };
    const sides = whatIfSides(snapshot, change.options);
    // what of the host's own boot the after side still reads
    const afterKey = [b.machine_hash, sides.boot, change.options.kernel ? "" : (b.osrelease ?? ""), change.options.cmdline !== undefined ? "" : (b.cmdline ?? "")].join("\n");
    let after = afters.get(afterKey);
    if (!after) afters.set(afterKey, (after = predict(snapshot, sides.after)));
    let before: GroupPartition;
    if (sides.boot) {
      const key = [b.machine_hash, b.osrelease ?? "", b.cmdline ?? ""].join("\n");
      let p = befores.get(key);
      if (!p) befores.set(key, (p = predict(snapshot, sides.before)));
      before = p.groups;
      if (partitionText(p) === partitionText(after)) continue;
    } else {
      if (b.partition === partitionText(after)) continue;
      before = parsePartition(b.partition);
    }
    hosts.push({
      name: b.name,
      acsMode: sides.boot ? "boot" : "captured",
      groupsBefore: before.groups.length,
      groupsAfter: after.groups.groups.length,
      changes: compareGroups(before, after.groups),
    });
  }
  return {
    change: { kernel: change.options.kernel ? formatKernel(change.options.kernel) : null, cmdline: change.cmdline ?? null },
    fleetHosts: boots.length,
    hosts,
    predictions: afters.size + befores.size,
  };
}

export interface RiskJson {
  host: string;
  kind: string;
  bdf: string | null;
  text: string;
}

/** `fleet risks` */
export async function fleetRisks(db: Queryable): Promise<RiskJson[]> {
  return db.query<RiskJson>(SELECT_RISKS);
}

type BoardRow = {
  vendor: string | null;
  board: string | null;
  bios_version: string | null;
  kernel: string;
  hosts: number;
  layouts: number;
  iommu: string;
  override_hosts: number;
  min_groups: number;
  max_groups: number;
} & { [K in `${DeviceKind}_${"count" | "alone"}`]: number };

export interface BoardJson {
  vendor: string | null;
  board: string | null;
  biosVersion: string | null;
  kernel: string;
  hosts: number;
  /** distinct group layouts among these hosts */
  layouts: number;
  iommu: string[];
  overrideHosts: number;
  groups: { min: number; max: number };
  devices: Record<DeviceKind, { count: number; alone: number }>;
  /** the same board isolates differently on another BIOS version or kernel */
  differs: boolean;
}

/** `fleet boards`: per board × BIOS version × kernel */
export async function fleetBoards(db: Queryable): Promise<BoardJson[]> {
  const rows = (await db.query<BoardRow>(SELECT_BOARDS)).map((r) => ({
    vendor: r.vendor,
    board: r.board,
    biosVersion: r.bios_version,
    kernel: r.kernel,
    hosts: r.hosts,
    layouts: r.layouts,
    iommu: r.iommu.split(","),
    overrideHosts: r.override_hosts,
    groups: { min: r.min_groups, max: r.max_groups },
    devices: Object.fromEntries(DEVICE_KINDS.map((k) => [k.name, { count: r[`${k.name}_count`], alone: r[`${k.name}_alone`] }])) as BoardJson["devices"],
    differs: false,
  }));
  // isolation per board model: the share of each kind's devices alone, and the override
  const signature = (b: BoardJson): string =>
    [...DEVICE_KINDS.map((k) => (b.devices[k.name].count === 0 ? "-" : (b.devices[k.name].alone / b.devices[k.name].count).toFixed(3))), b.overrideHosts > 0].join("/");
  const byBoard = new Map<string, Set<string>>();
  const key = (b: BoardJson): string => `${b.vendor ?? ""}\n${b.board ?? ""}`;
  for (const b of rows) byBoard.set(key(b), (byBoard.get(key(b)) ?? new Set()).add(signature(b)));
  for (const b of rows) b.differs = byBoard.get(key(b))!.size > 1;
  return rows;
}
