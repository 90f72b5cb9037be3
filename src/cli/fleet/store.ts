/**
 * Writes parsed captures into the fleet tables (sql.ts), a chunk per
 * transaction, with one multi-row statement per table.
 */
import { DEVICE_KINDS } from "../../core/fleet/facts.js";
import type { Db } from "./db.js";
import type { ParsedCapture } from "./parse.js";
import { DELETE_HOSTS, EXISTING_HOSTS, HOST_COLUMNS, INSERT_CAPTURES, INSERT_FUNCTIONS, INSERT_HOSTS, INSERT_MACHINES, INSERT_RISKS } from "./sql.js";

type HostColumn = (typeof HOST_COLUMNS)[number][0];

function hostRow(c: ParsedCapture): Record<HostColumn, string | number | null> {
  const f = c.facts;
  const d = c.identity.dmi;
  const row: Record<string, string | number | null> = {
    name: c.host,
    capture_hash: c.hash,
    machine_hash: c.machineHash,
    hostname: c.identity.hostname,
    sys_vendor: d.sys_vendor,
    product_name: d.product_name,
    board_vendor: d.board_vendor,
    board_name: d.board_name,
    bios_vendor: d.bios_vendor,
    bios_version: d.bios_version,
    bios_date: d.bios_date,
    osrelease: c.osrelease,
    cmdline: c.cmdline,
    kernel: f.kernel,
    iommu: f.iommu,
    group_count: f.groupCount,
    largest_group: f.largestGroup,
    acs_override: f.acsOverride,
    partition: f.partition,
  };
  for (const k of DEVICE_KINDS) {
    row[`${k.name}_count`] = c.kinds[k.name].count;
    row[`${k.name}_alone`] = c.kinds[k.name].alone;
  }
  return row as Record<HostColumn, string | number | null>;
}

/**
 * Stores `captures` (new to the database, in input order; a later capture
 * of the same host wins) and the machine trees in `trees`. Returns how many
 * hosts were added and how many replaced.
 */
export async function storeCaptures(
  db: Db,
  captures: readonly ParsedCapture[],
  trees: readonly { hash: string; tree: Uint8Array }[],
): Promise<{ added: number; replaced: number }> {
  const machines = new Map<string, Uint8Array>();
  for (const t of trees) machines.set(t.hash, t.tree);
  for (const c of captures) if (c.machineTree) machines.set(c.machineHash, c.machineTree);
  // the last capture of each host in this chunk
  const last = new Map<string, ParsedCapture>();
  for (const c of captures) last.set(c.host, c);
  const hosts = [...last.values()];
  const names = hosts.map((c) => c.host);
  return db.transaction(async (tx) => {
    if (machines.size > 0) await tx.query(INSERT_MACHINES, [[...machines.keys()], [...machines.values()]]);
    if (captures.length === 0) return { added: 0, replaced: 0 };
    await tx.query(INSERT_CAPTURES, [captures.map((c) => c.hash), captures.map((c) => c.host), captures.map((c) => c.file)]);
    const existing = (await tx.query<{ name: string }>(EXISTING_HOSTS, [names])).length;
    if (existing > 0) await tx.query(DELETE_HOSTS, [names]);
    const rows = hosts.map(hostRow);
    await tx.query(
      INSERT_HOSTS,
      HOST_COLUMNS.map(([col]) => rows.map((r) => r[col])),
    );
    const fn = hosts.flatMap((c) => c.facts.functions.map((f) => ({ host: c.host, f })));
    await tx.query(INSERT_FUNCTIONS, [
      fn.map((x) => x.host),
      fn.map((x) => x.f.bdf),
      fn.map((x) => x.f.vendor),
      fn.map((x) => x.f.device),
      fn.map((x) => x.f.classCode),
      fn.map((x) => x.f.bridge),
      fn.map((x) => x.f.group),
      fn.map((x) => x.f.alone),
      fn.map((x) => x.f.reason),
    ]);
    const risks = hosts.flatMap((c) => c.facts.risks.map((r) => ({ host: c.host, r })));
    if (risks.length > 0) {
      await tx.query(INSERT_RISKS, [risks.map((x) => x.host), risks.map((x) => x.r.kind), risks.map((x) => x.r.bdf), risks.map((x) => x.r.text)]);
    }
    return { added: hosts.length - existing, replaced: existing };
  });
}
