import { kernelWithoutGroups, parseKernelVersion } from "../../core/kernel/version.js";
import { parseSelector } from "../../core/plan/select.js";
import { UsageError } from "../errors.js";
import { openDb } from "../fleet/db.js";
import type { Db } from "../fleet/db.js";
import { ingest } from "../fleet/ingest.js";
import type { HostFrom } from "../fleet/parse.js";
import { fleetAlone, fleetBoards, fleetHosts, fleetRisks, fleetWhatIf } from "../fleet/questions.js";
import type { Output } from "../output.js";
import { toJson } from "../output.js";
import { csvText, renderTable } from "../render/table.js";
import type { Cell } from "../render/table.js";
import { DEVICE_KINDS } from "../../core/fleet/facts.js";

export interface FleetDbOptions {
  db?: string | undefined;
}

export interface FleetOutputOptions extends FleetDbOptions {
  json?: boolean | undefined;
  csv?: boolean | undefined;
}

async function withDb<T>(opts: FleetDbOptions, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDb(opts.db);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

function outputKind(opts: FleetOutputOptions): "json" | "csv" | "text" {
  if (opts.json && opts.csv) throw new UsageError("--json and --csv exclude each other; pick one");
  return opts.json ? "json" : opts.csv ? "csv" : "text";
}

/** writes a question's answer in the chosen form */
function emit(io: Output, opts: FleetOutputOptions, json: object, headers: readonly string[], rows: readonly (readonly Cell[])[], text: () => string[]): void {
  const kind = outputKind(opts);
  if (kind === "json") io.out(toJson(json));
  else if (kind === "csv") io.out(csvText(headers, rows));
  else io.out(text().join("\n"));
}

export interface FleetIngestOptions extends FleetDbOptions {
  captures: string[];
  hostFrom?: string | undefined;
  jobs?: string | undefined;
  json?: boolean | undefined;
}

/** `fleet ingest`: exit 0 all stored, 2 when some capture was bad (the others are stored) */
export async function fleetIngestCommand(opts: FleetIngestOptions, io: Output): Promise<number> {
  const hostFrom = (opts.hostFrom ?? "name") as HostFrom;
  if (hostFrom !== "name" && hostFrom !== "hostname") throw new UsageError(`--host-from '${opts.hostFrom}': expected name (the file name) or hostname (recorded with capture --hostname)`);
  const jobs = opts.jobs === undefined ? undefined : Number(opts.jobs);
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1 || jobs > 64)) throw new UsageError(`--jobs '${opts.jobs}': expected a whole number from 1 to 64`);
  const started = Date.now();
  const r = await withDb(opts, (db) => ingest(db, { inputs: opts.captures, hostFrom, jobs, progress: !opts.json }).then((res) => ({ ...res, where: db.where })));
  for (const b of r.bad) io.err(`iommu-atlas: ${b.reason}; skipped`);
  const seconds = (Date.now() - started) / 1000;
  if (opts.json) {
    io.out(
      toJson({
        schema: "iommu-atlas/fleet-ingest@1",
        db: r.where,
        captures: r.captures,
        added: r.added,
        replaced: r.replaced,
        unchanged: r.unchanged,
        skipped: r.bad.map((b) => ({ file: b.file, reason: b.reason })),
      }),
    );
  } else {
    io.out(
      `${r.captures} capture${r.captures === 1 ? "" : "s"} read in ${seconds.toFixed(1)} s: ${r.added} host${r.added === 1 ? "" : "s"} added, ${r.replaced} replaced, ${r.unchanged} already stored, ${r.bad.length} skipped (${r.where})`,
    );
  }
  return r.bad.length > 0 ? 2 : 0;
}

const orDash = (s: string | null): string => s ?? "-";
const joinNames = (...parts: (string | null)[]): string | null => {
  const t = parts.filter((p): p is string => p !== null).join(" ");
  return t === "" ? null : t;
};

/** `fleet hosts` */
export async function fleetHostsCommand(opts: FleetOutputOptions, io: Output): Promise<number> {
  outputKind(opts);
  const hosts = await withDb(opts, fleetHosts);
  const headers = ["host", "board", "bios", "kernel", "iommu", "groups", "largest_group", "acs_override"];
  const rows = hosts.map((h) => [
    h.name,
    joinNames(h.board.vendor, h.board.name) ?? joinNames(h.system.vendor, h.system.product),
    joinNames(h.bios.version, h.bios.date ? `(${h.bios.date})` : null),
    h.kernel,
    h.iommu,
    h.groups,
    h.largestGroup,
    h.acsOverride,
  ]);
  emit(io, opts, { schema: "iommu-atlas/fleet-hosts@1", hosts }, headers, rows, () => [
    ...renderTable(
      headers.map((x) => x.toUpperCase().replace("_", " ")),
      rows.map((r) => [...r.slice(0, 7), r[7] === null ? "no" : `yes (${r[7]})`]),
    ),
    `${hosts.length} host${hosts.length === 1 ? "" : "s"}`,
  ]);
  return 0;
}

/** `fleet alone VENDOR:DEVICE|CLASS` */
export async function fleetAloneCommand(opts: FleetOutputOptions & { selector: string }, io: Output): Promise<number> {
  outputKind(opts);
  const sel = parseSelector(opts.selector);
  if (!sel || sel.kind === "bdf") throw new UsageError(`'${opts.selector}' is not a vendor:device pair or a class; write 10de:20b0, class:0300 or class:03`);
  const a = await withDb(opts, (db) => fleetAlone(db, sel));
  const headers = ["host", "bdf", "vendor", "device", "class", "group", "alone", "reason"];
  const rows = a.hosts.flatMap((h) => h.functions.map((f) => [h.name, f.bdf, f.vendor, f.device, f.class, f.group, f.alone, f.reason]));
  const can = a.hosts.filter((h) => h.alone).length;
  emit(io, opts, { schema: "iommu-atlas/fleet-alone@1", ...a }, headers, rows, () => [
    `${a.hosts.length} of ${a.fleetHosts} hosts have ${a.selector}; ${can} can give it to a VM alone`,
    ...(rows.length === 0 ? [] : renderTable(["HOST", "FUNCTION", "GROUP", "ALONE", "WHY NOT"], rows.map((r) => [r[0]!, r[1]!, r[5]!, r[6]!, r[7]!]))),
  ]);
  return 0;
}

/** `fleet whatif --kernel V | --cmdline TEXT` */
export async function fleetWhatIfCommand(opts: FleetOutputOptions & { kernel?: string | undefined; cmdline?: string | undefined }, io: Output): Promise<number> {
  outputKind(opts);
  if (opts.kernel === undefined && opts.cmdline === undefined) throw new UsageError("fleet whatif needs a change: --kernel VERSION and/or --cmdline '…'");
  const kernel = opts.kernel === undefined ? undefined : parseKernelVersion(opts.kernel);
  if (opts.kernel !== undefined && !kernel) throw new UsageError(`--kernel '${opts.kernel}': expected a version such as 6.1 or 6.12`);
  const old = kernel && kernelWithoutGroups(kernel);
  if (old) throw new UsageError(`--kernel '${opts.kernel}': ${old}`);
  const w = await withDb(opts, (db) => fleetWhatIf(db, { kernel: opts.kernel, cmdline: opts.cmdline, options: { kernel, cmdline: opts.cmdline } }));
  const headers = ["host", "groups_before", "groups_after", "change", "before", "after"];
  const group = (m: readonly string[]): string => m.join(" ");
  const rows = w.hosts.flatMap((h) =>
    h.changes.map((c) =>
      c.kind === "split"
        ? [h.name, h.groupsBefore, h.groupsAfter, "split", group(c.before), c.after.map(group).join(" | ")]
        : [h.name, h.groupsBefore, h.groupsAfter, "merged", c.before.map(group).join(" | "), group(c.after)],
    ),
  );
  const what = [w.change.kernel ? `kernel ${w.change.kernel}` : "", w.change.cmdline !== null ? `cmdline '${w.change.cmdline}'` : ""].filter(Boolean).join(", ");
  emit(io, opts, { schema: "iommu-atlas/fleet-whatif@1", ...w }, headers, rows, () => {
    const lines = [`${w.hosts.length} of ${w.fleetHosts} hosts would change groups with ${what}`];
    for (const h of w.hosts) {
      lines.push(`${h.name}: ${h.groupsBefore} groups → ${h.groupsAfter}${h.acsMode === "boot" ? " (ACS modelled from boot on both sides)" : ""}`);
      for (const c of h.changes) {
        if (c.kind === "split") lines.push(`  split: {${c.before.join(", ")}} → ${c.after.map((g) => `{${g.join(", ")}}`).join(" ")}`);
        else lines.push(`  merged: ${c.before.map((g) => `{${g.join(", ")}}`).join(" + ")} → {${c.after.join(", ")}}`);
      }
    }
    return lines;
  });
  return 0;
}

/** `fleet risks` */
export async function fleetRisksCommand(opts: FleetOutputOptions, io: Output): Promise<number> {
  outputKind(opts);
  const risks = await withDb(opts, fleetRisks);
  const headers = ["host", "kind", "bdf", "text"];
  const rows = risks.map((r) => [r.host, r.kind, r.bdf, r.text]);
  emit(io, opts, { schema: "iommu-atlas/fleet-risks@1", risks }, headers, rows, () => [
    `${risks.length} risk${risks.length === 1 ? "" : "s"} on ${new Set(risks.map((r) => r.host)).size} hosts`,
    ...(rows.length === 0 ? [] : renderTable(["HOST", "RISK", "FUNCTION", "WHAT"], rows)),
  ]);
  return 0;
}

/** `fleet boards` */
export async function fleetBoardsCommand(opts: FleetOutputOptions, io: Output): Promise<number> {
  outputKind(opts);
  const boards = await withDb(opts, fleetBoards);
  const kinds = DEVICE_KINDS.map((k) => k.name);
  const headers = ["vendor", "board", "bios_version", "kernel", "hosts", "layouts", "iommu", "override_hosts", "min_groups", "max_groups", ...kinds.flatMap((k) => [`${k}_count`, `${k}_alone`]), "differs"];
  const rows = boards.map((b) => [
    b.vendor,
    b.board,
    b.biosVersion,
    b.kernel,
    b.hosts,
    b.layouts,
    b.iommu.join(" "),
    b.overrideHosts,
    b.groups.min,
    b.groups.max,
    ...kinds.flatMap((k) => [b.devices[k].count, b.devices[k].alone]),
    b.differs,
  ]);
  const ratio = (d: { count: number; alone: number }): string => (d.count === 0 ? "-" : `${d.alone}/${d.count}`);
  emit(io, opts, { schema: "iommu-atlas/fleet-boards@1", boards }, headers, rows, () =>
    renderTable(
      ["BOARD", "BIOS", "KERNEL", "HOSTS", "LAYOUTS", "IOMMU", "OVERRIDE", "GROUPS", ...DEVICE_KINDS.map((k) => `${k.text} ALONE`), "DIFFERS"],
      boards.map((b) => [
        joinNames(b.vendor, b.board) ?? "unknown board",
        orDash(b.biosVersion),
        b.kernel,
        b.hosts,
        b.layouts,
        b.iommu.join(" "),
        b.overrideHosts,
        b.groups.min === b.groups.max ? String(b.groups.min) : `${b.groups.min}-${b.groups.max}`,
        ...kinds.map((k) => ratio(b.devices[k])),
        b.differs,
      ]),
    ),
  );
  return 0;
}

