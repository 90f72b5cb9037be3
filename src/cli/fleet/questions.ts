/**
 * The fleet questions: each reads the store (sql.ts) and returns plain
 * data; the command renders it as text, JSON or CSV.
 */
import { availableParallelism } from "node:os";
import { DEVICE_KINDS } from "../../core/fleet/facts.js";
import type { DeviceKind } from "../../core/fleet/facts.js";
import type { PredictOptions } from "../../core/iommu/predict.js";
import type { GroupChange } from "../../core/iommu/whatif.js";
import { formatKernel } from "../../core/kernel/version.js";
import { hex4 } from "../../core/names.js";
import type { Selector } from "../../core/plan/select.js";
import { formatSelector } from "../../core/plan/select.js";
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
import { runPool, workerFile } from "./pool.js";
import { whatIfMachine } from "./whatif-machine.js";
import type { Boot, MachineTask } from "./whatif-machine.js";

/** a fleet_hosts row as SELECT_HOSTS gives it */
type HostRow = [
  name: string,
  hostname: string | null,
  sysVendor: string | null,
  productName: string | null,
  boardVendor: string | null,
  boardName: string | null,
  biosVendor: string | null,
  biosVersion: string | null,
  biosDate: string | null,
  osrelease: string | null,
  kernel: string,
  iommu: string,
  groupCount: number,
  largestGroup: number,
  acsOverride: string | null,
];

/** the rows of a query that returns them as one JSON text (sql.ts) */
async function jsonRows<R>(db: Queryable, sql: string, params?: readonly unknown[]): Promise<R[]> {
  const [r] = await db.query<{ rows: string }>(sql, params);
  return JSON.parse(r!.rows) as R[];
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
  return (await jsonRows<HostRow>(db, SELECT_HOSTS)).map(
    ([name, hostname, sysVendor, productName, boardVendor, boardName, biosVendor, biosVersion, biosDate, osrelease, kernel, iommu, groups, largestGroup, acsOverride]) => ({
      name,
      hostname,
      system: { vendor: sysVendor, product: productName },
      board: { vendor: boardVendor, name: boardName },
      bios: { vendor: biosVendor, version: biosVersion, date: biosDate },
      kernel,
      osrelease,
      iommu,
      groups,
      largestGroup,
      acsOverride,
    }),
  );
}

/** host, bdf, vendor, device, class, grp, alone, reason (sql.ts) */
type FunctionRow = [string, string, number, number, number, number | null, boolean, string | null];


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
  // a class prefix of 2, 4 or 6 hex digits: the class codes it starts
  const scale = sel.kind === "class" ? 2 ** (24 - 4 * sel.digits) : 0;
  const rows =
    sel.kind === "id"
      ? await jsonRows<FunctionRow>(db, SELECT_FUNCTIONS_BY_ID, [sel.vendor, sel.device])
      : await jsonRows<FunctionRow>(db, SELECT_FUNCTIONS_BY_CLASS, [sel.code * scale, (sel.code + 1) * scale]);
  const hosts: AloneJson["hosts"] = [];
  for (const [host, bdf, vendor, device, classCode, grp, alone, reason] of rows) {
    let h = hosts.at(-1);
    if (h?.name !== host) hosts.push((h = { name: host, alone: false, functions: [] }));
    h.functions.push({
      bdf,
      vendor: hex4(vendor),
      device: hex4(device),
      class: classCode.toString(16).padStart(6, "0"),
      group: grp,
      alone,
      reason,
    });
    h.alone ||= alone;
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

/** name, machine_hash, osrelease, cmdline, partition (sql.ts) */
type BootRow = [string, string, string | null, string | null, string];

/**
 * Below this many machines the main thread does the work: a worker thread
 * costs about 0.3 s of CPU before its first answer (loading and warming up
 * the engine), a machine 1–2 ms once warm.
 */
const WHATIF_PARALLEL_FROM = 500;

/**
 * `fleet whatif`: every host's groups under the change, recomputed from its
 * stored machine tree (whatif-machine.ts): hosts that share a machine and
 * a boot are computed once; from `parallelFrom` machines on, machines are
 * spread over `jobs` worker threads.
 */
export async function fleetWhatIf(db: Queryable, change: WhatIfChange, jobs = availableParallelism(), parallelFrom = WHATIF_PARALLEL_FROM): Promise<WhatIfJson> {
  const boots = await jsonRows<BootRow>(db, SELECT_HOST_BOOTS);
  const machines = new Map<string, { boots: Boot[]; index: Map<string, number> }>();
  /** per host (as `boots`): its boot's index among its machine's */
  const place: number[] = [];
  for (const [, hash, osrelease, cmdline, partition] of boots) {
    let m = machines.get(hash);
    if (!m) machines.set(hash, (m = { boots: [], index: new Map() }));
    const key = `${osrelease ?? ""}\n${cmdline ?? ""}`;
    let i = m.index.get(key);
    if (i === undefined) {
      m.index.set(key, (i = m.boots.length));
      m.boots.push({ osrelease, cmdline, partition });
    }
    place.push(i);
  }
  const tasks: MachineTask[] = [];
  for (const r of await db.query<{ hash: string; tree: string }>(SELECT_MACHINE_TREES, [[...machines.keys()]])) {
    tasks.push({ hash: r.hash, tree: new Uint8Array(Buffer.from(r.tree, "base64")), boots: machines.get(r.hash)!.boots });
  }
  const done = tasks.length >= parallelFrom && jobs > 1 ? await inWorkers(tasks, change.options, jobs) : tasks.map((t) => whatIfMachine(t, change.options));
  const results = new Map(tasks.map((t, i) => [t.hash, done[i]!.results]));
  const hosts: WhatIfJson["hosts"] = [];
  for (const [k, [name, hash]] of boots.entries()) {
    const r = results.get(hash)![place[k]!]!;
    if (r) hosts.push({ name, ...r });
  }
  return {
    change: { kernel: change.options.kernel ? formatKernel(change.options.kernel) : null, cmdline: change.cmdline ?? null },
    fleetHosts: boots.length,
    hosts,
    predictions: done.reduce((n, d) => n + d.predictions, 0),
  };
}

async function inWorkers(tasks: readonly MachineTask[], options: PredictOptions, jobs: number): Promise<ReturnType<typeof whatIfMachine>[]> {
  const out: ReturnType<typeof whatIfMachine>[] = new Array(tasks.length);
  await runPool<MachineTask, ReturnType<typeof whatIfMachine>>(workerFile("whatif-worker"), { options }, tasks, jobs, (id, r) => {
    out[id] = r;
  });
  return out;
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
