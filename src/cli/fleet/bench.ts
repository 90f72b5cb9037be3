/**
 * `npm run bench:fleet`: ingest N generated capture variations (default
 * 10,000) of the oracle archives into embedded PGlite and into PostgreSQL,
 * then time each question over the whole fleet. Wall-clock figures on this
 * machine; never a test.
 *
 *   node dist/cli/fleet/bench.js [--hosts N] [--oracle DIR] [--postgres URL]
 *
 * Without --postgres (or IOMMU_ATLAS_BENCH_POSTGRES_URL) it starts a
 * throwaway server with tools/postgres/server.sh when the postgresql
 * package is installed, and stops it at the end.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import type { FileTree, FileTreeEntry } from "../../core/fs/file-tree.js";
import { parseKernelVersion } from "../../core/kernel/version.js";
import { decodeArchive, encodeArchive } from "../sysfs/archive.js";
import { openDb } from "./db.js";
import type { Db } from "./db.js";
import { ingest } from "./ingest.js";
import { fleetAlone, fleetBoards, fleetHosts, fleetRisks, fleetWhatIf } from "./questions.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const BOARDS = [
  ["Supermicro", "X12DPi-NT6", ["1.4", "1.6", "2.1"]],
  ["Dell Inc.", "0X7YTH", ["2.14.1", "2.19.0"]],
  ["ASRockRack", "ROMED8-2T", ["P3.50", "P3.70"]],
  ["Gigabyte", "MZ73-LM0", ["R11", "R13"]],
  ["HPE", "ProLiant DL380 Gen10 Plus", ["U46 1.70", "U46 1.82"]],
] as const;
const RELEASES = ["5.15.0-91-generic", "6.1.0-56-amd64", "6.6.13-amd64", "6.12.9-amd64"];

const text = (s: string): FileTreeEntry => ({ kind: "file", data: new TextEncoder().encode(`${s}\n`) });

/** the files a variation sets per host */
const VARIED = new Set([
  "sys/class",
  "sys/class/dmi",
  "sys/class/dmi/id",
  ...["sys_vendor", "product_name", "board_vendor", "board_name", "bios_vendor", "bios_version", "bios_date"].map((f) => `sys/class/dmi/id/${f}`),
  "proc/sys/kernel/hostname",
  "proc/sys/kernel/osrelease",
  "proc/cmdline",
]);

/** host `i`'s own files: board, BIOS, kernel release, host name, and one in twenty with an ACS override */
function hostFiles(base: FileTree, i: number): FileTree {
  const tree = new Map<string, FileTreeEntry>();
  const [vendor, board, bioses] = BOARDS[i % BOARDS.length]!;
  tree.set("sys/class", { kind: "dir" });
  tree.set("sys/class/dmi", { kind: "dir" });
  tree.set("sys/class/dmi/id", { kind: "dir" });
  tree.set("sys/class/dmi/id/sys_vendor", text(vendor));
  tree.set("sys/class/dmi/id/product_name", text(`${board} system`));
  tree.set("sys/class/dmi/id/board_vendor", text(vendor));
  tree.set("sys/class/dmi/id/board_name", text(board));
  tree.set("sys/class/dmi/id/bios_vendor", text(`${vendor} BIOS`));
  tree.set("sys/class/dmi/id/bios_version", text(bioses[Math.floor(i / BOARDS.length) % bioses.length]!));
  tree.set("sys/class/dmi/id/bios_date", text(`0${1 + (i % 9)}/15/2025`));
  tree.set("proc/sys/kernel/hostname", text(`node-${String(i).padStart(5, "0")}`));
  tree.set("proc/sys/kernel/osrelease", text(RELEASES[Math.floor(i / 7) % RELEASES.length]!));
  const cmdline = base.get("proc/cmdline");
  const was = cmdline?.kind === "file" ? new TextDecoder().decode(cmdline.data).trim() : "";
  tree.set("proc/cmdline", text(i % 20 === 7 ? `${was} pcie_acs_override=downstream,multifunction` : was));
  return tree;
}

/**
 * A capture archive per host, fast: the base's shared entries compressed
 * once (a gzip member without the end-of-archive blocks), then the host's
 * own files as a second gzip member. gzip readers join members, so the
 * archive reads as one tar.
 */
function variations(base: FileTree): (i: number) => Uint8Array {
  const shared = gunzipSync(encodeArchive(new Map([...base].filter(([k]) => !VARIED.has(k)))));
  const head = gzipSync(shared.subarray(0, shared.length - 1024), { level: 6 });
  return (i) => Buffer.concat([head, encodeArchive(hostFiles(base, i))]);
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const { default: pg } = await import("pg");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** wall time, and CPU time of this process (every thread; not the PostgreSQL server's) */
async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T }> {
  const t = performance.now();
  const c = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(c);
  return { ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000, value };
}

/** each question once to warm up, then the best of three */
async function questions(db: Db): Promise<[string, number, number, string][]> {
  const out: [string, number, number, string][] = [];
  const q = async (name: string, fn: () => Promise<unknown>, what: (v: never) => string): Promise<void> => {
    let best = Infinity;
    let cpu = Infinity;
    let value: unknown;
    await fn();
    for (let r = 0; r < 3; r++) {
      const t = await timed(fn);
      best = Math.min(best, t.ms);
      cpu = Math.min(cpu, t.cpuMs);
      value = t.value;
    }
    out.push([name, best, cpu, what(value as never)]);
  };
  await q("hosts", () => fleetHosts(db), (v: unknown[]) => `${v.length} hosts`);
  await q("alone class:02", () => fleetAlone(db, { kind: "class", code: 0x02, digits: 2 }), (v: { hosts: { alone: boolean }[] }) => `${v.hosts.length} hosts, ${v.hosts.filter((h) => h.alone).length} alone`);
  await q("alone 8086:10d3", () => fleetAlone(db, { kind: "id", vendor: 0x8086, device: 0x10d3 }), (v: { hosts: unknown[] }) => `${v.hosts.length} hosts`);
  await q("whatif --kernel 6.12", () => fleetWhatIf(db, { kernel: "6.12", options: { kernel: parseKernelVersion("6.12") } }), (v: { hosts: unknown[]; predictions: number }) => `${v.hosts.length} change, ${v.predictions} predictions`);
  const cmdline = "console=ttyS0 intel_iommu=on pcie_acs_override=downstream,multifunction";
  await q("whatif --cmdline override", () => fleetWhatIf(db, { cmdline, options: { cmdline } }), (v: { hosts: unknown[]; predictions: number }) => `${v.hosts.length} change, ${v.predictions} predictions`);
  await q("risks", () => fleetRisks(db), (v: unknown[]) => `${v.length} risks`);
  await q("boards", () => fleetBoards(db), (v: unknown[]) => `${v.length} rows`);
  return out;
}

async function main(): Promise<void> {
  const hosts = Number(arg("--hosts") ?? 10_000);
  const oracle = arg("--oracle") ?? path.resolve(repo, "..", "shared", "oracle-cases");
  if (!existsSync(oracle)) {
    console.log(`bench:fleet: no oracle captures at ${oracle}; pass --oracle DIR`);
    process.exitCode = 2;
    return;
  }
  const bases = readdirSync(oracle)
    .filter((f) => f.endsWith(".sysfs.tar.gz"))
    .sort()
    .map((f) => decodeArchive(new Uint8Array(readFileSync(path.join(oracle, f))), f));
  const tmp = await mkdtemp(path.join(tmpdir(), "iommu-atlas-bench-fleet-"));
  let pgDir: string | undefined;
  let dropDb: (() => Promise<void>) | undefined;
  try {
    console.log(`machine: ${cpus()[0]?.model ?? "?"}, ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}; Node ${process.version}`);
    const dir = path.join(tmp, "captures");
    await mkdir(dir);
    const gen = await timed(async () => {
      const makers = bases.map(variations);
      for (let i = 0; i < hosts; i++) await writeFile(path.join(dir, `node-${String(i).padStart(5, "0")}.sysfs.tar.gz`), makers[i % makers.length]!(i));
    });
    console.log(`generated ${hosts} captures from ${bases.length} oracle archives in ${(gen.ms / 1000).toFixed(1)} s`);

    let pgUrl = arg("--postgres") ?? process.env.IOMMU_ATLAS_BENCH_POSTGRES_URL;
    let pgSkip: string | undefined;
    if (!pgUrl) {
      // a folder of its own under the temp root: as root the server runs as 'postgres', which cannot enter `tmp` (mode 0700)
      pgDir = await mkdtemp(path.join(tmpdir(), "iommu-atlas-bench-postgres-"));
      const r = spawnSync(path.join(repo, "tools/postgres/server.sh"), ["start", pgDir], { encoding: "utf8", env: { ...process.env, PGPORT_TEST: process.env.PGPORT_TEST ?? "55433" } });
      if (r.status === 0) pgUrl = r.stdout.trim();
      else {
        pgSkip = `no PostgreSQL server (${r.stderr.trim().split("\n").at(-1)}); pass --postgres URL`;
        await rm(pgDir, { recursive: true, force: true });
        pgDir = undefined;
      }
    }
    // a fresh database on the server, dropped at the end
    let benchUrl: string | undefined;
    if (pgUrl) {
      const name = `fleet_bench_${process.pid}`;
      await adminQuery(pgUrl, `CREATE DATABASE ${name}`);
      dropDb = () => adminQuery(pgUrl!, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      const u = new URL(pgUrl);
      u.pathname = `/${name}`;
      benchUrl = u.toString();
    }
    const targets: [string, string | undefined][] = [
      ["PGlite", path.join(tmp, "pglite")],
      ["PostgreSQL", benchUrl],
    ];
    for (const [name, target] of targets) {
      if (!target) {
        console.log(`\n${name}: skipped: ${pgSkip}`);
        continue;
      }
      const db = await openDb(target);
      try {
        const first = await timed(() => ingest(db, { inputs: [dir], hostFrom: "name" }));
        const again = await timed(() => ingest(db, { inputs: [dir], hostFrom: "name" }));
        console.log(`\n${name}`);
        const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
        console.log(`  ingest ${hosts} captures: ${s(first.ms)}, CPU ${s(first.cpuMs)} (${first.value.added} hosts added, ${first.value.replaced} replaced, ${first.value.bad.length} bad)`);
        console.log(`  re-ingest (all already stored): ${s(again.ms)}, CPU ${s(again.cpuMs)} (${again.value.unchanged} unchanged)`);
        for (const [q, ms, cpu, what] of await questions(db)) console.log(`  ${q.padEnd(26)} ${ms.toFixed(0).padStart(6)} ms, CPU ${cpu.toFixed(0).padStart(6)} ms  (${what})`);
      } finally {
        await db.close();
      }
    }
  } finally {
    await dropDb?.().catch(() => undefined);
    if (pgDir) spawnSync(path.join(repo, "tools/postgres/server.sh"), ["stop", pgDir]);
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
