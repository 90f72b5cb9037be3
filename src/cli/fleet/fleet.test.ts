/**
 * The fleet suite, run twice: on embedded PGlite and on a real PostgreSQL
 * server (IOMMU_ATLAS_TEST_POSTGRES_URL; .ci/run starts one). A batch of
 * every oracle capture plus variants (an ACS override on a named board, a
 * Switchtec NT host whose registers were unreadable) and a corrupt capture
 * in the middle is ingested through the CLI; each question's answer is
 * checked against what `iommu-atlas groups`, `show` and `whatif` say about
 * each host's capture on its own.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostIdentity, hostRisks } from "../../core/fleet/facts.js";
import { predict } from "../../core/iommu/predict.js";
import { snapshotFromSysfs } from "../../core/sources/from-sysfs.js";
import { main } from "../main.js";
import { recorder } from "../testing.js";
import { decodeArchive, encodeArchive, readSource, writeArchive } from "../sysfs/archive.js";
import { collectSysfs } from "../sysfs/collect.js";
import { FAKE_HOSTNAME, makeFakeSysfs } from "../sysfs/fake-sysfs.js";
import { openDb } from "./db.js";
import { nameFromFile } from "./parse.js";
import { fleetWhatIf } from "./questions.js";

const PG_URL = process.env.IOMMU_ATLAS_TEST_POSTGRES_URL;
const ORACLE = path.resolve("..", "shared", "oracle-cases");
const oracleFiles = existsSync(ORACLE) ? readdirSync(ORACLE).filter((f) => f.endsWith(".sysfs.tar.gz")).sort() : [];
const OVERRIDE = "pcie_acs_override=downstream,multifunction";
const busybox = spawnSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).stdout.trim() || undefined;

let tmp: string;
let batch: string;
/** every good capture of the batch */
let captures: string[];
let fakeRoot: string;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = recorder();
  const code = await main(args, io);
  return { code, out: io.text(), err: io.errors() };
}

async function json<T>(args: string[]): Promise<T> {
  const r = await run([...args, "--json"]);
  if (r.code !== 0) throw new Error(`${args.join(" ")}: exit ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as T;
}

/** a variant of an oracle capture: another command line, a DMI identity */
async function variant(from: string, to: string, cmdlineExtra: string, dmi: Record<string, string>): Promise<void> {
  const tree = new Map(decodeArchive(new Uint8Array(await readFile(path.join(ORACLE, from))), from));
  const cmdline = tree.get("proc/cmdline");
  if (cmdline?.kind !== "file") throw new Error(`${from} has no proc/cmdline`);
  tree.set("proc/cmdline", { kind: "file", data: new TextEncoder().encode(`${new TextDecoder().decode(cmdline.data).trim()}${cmdlineExtra}\n`) });
  for (const d of ["sys/class", "sys/class/dmi", "sys/class/dmi/id"]) tree.set(d, { kind: "dir" });
  for (const [k, v] of Object.entries(dmi)) tree.set(`sys/class/dmi/id/${k}`, { kind: "file", data: new TextEncoder().encode(`${v}\n`) });
  await writeFile(to, encodeArchive(tree));
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "iommu-atlas-fleet-"));
  batch = path.join(tmp, "batch");
  await mkdir(path.join(batch, "oracle"), { recursive: true });
  captures = [];
  if (oracleFiles.length === 0) return;
  const board = { sys_vendor: "Acme", product_name: "R1", board_vendor: "Acme Boards", board_name: "Board A", bios_vendor: "Acme BIOS", bios_date: "01/02/2025" };
  await variant("nested-switches.sysfs.tar.gz", path.join(batch, "a-override.sysfs.tar.gz"), ` ${OVERRIDE}`, { ...board, bios_version: "1.0" });
  await variant("nested-switches.sysfs.tar.gz", path.join(batch, "b-plain.sysfs.tar.gz"), "", { ...board, bios_version: "2.0" });
  // the corrupt one, in the middle of the batch: cut short
  const whole = await readFile(path.join(ORACLE, oracleFiles[0]!));
  await writeFile(path.join(batch, "m-corrupt.sysfs.tar.gz"), whole.subarray(0, Math.floor(whole.length / 2)));
  for (const f of oracleFiles) await symlink(path.join(ORACLE, f), path.join(batch, "oracle", f));
  fakeRoot = path.join(tmp, "root");
  await makeFakeSysfs(fakeRoot, { switchtec: "unreadable" });
  await writeArchive((await collectSysfs(fakeRoot, { readRegisters: true, hostname: true })).tree, path.join(batch, "zz-switchtec.sysfs.tar.gz"));
  captures = [
    path.join(batch, "a-override.sysfs.tar.gz"),
    path.join(batch, "b-plain.sysfs.tar.gz"),
    ...oracleFiles.map((f) => path.join(batch, "oracle", f)),
    path.join(batch, "zz-switchtec.sysfs.tar.gz"),
  ];
}, 60_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface GroupsJson {
  kernel: { version: string };
  cmdline: string;
  iommu: { kind: string };
  groups: { id: number; members: { bdf: string }[] }[];
  warnings: string[];
}
interface ShowJson {
  functions: { bdf: string; vendor: string; device: string; class: string; headerType: number }[];
}
interface Change {
  kind: "split" | "merged";
  before: string[] | string[][];
  after: string[] | string[][];
}

/** one host's answers, from the single-host commands */
interface Expected {
  name: string;
  groups: GroupsJson;
  show: ShowJson;
  /** per function: its group and whether it is alone (own slot and bridges only) */
  alone: Map<string, { group: number | null; alone: boolean; others: string[] }>;
  dmi: ReturnType<typeof hostIdentity>;
  risks: string[];
}

let expectedCache: Promise<Expected[]> | undefined;
/** what the single-host commands say about every capture of the batch (computed once for both databases) */
function expected(): Promise<Expected[]> {
  expectedCache ??= (async () => {
    const out: Expected[] = [];
    for (const file of captures) {
      const groups = await json<GroupsJson>(["groups", file]);
      const show = await json<ShowJson>(["show", file]);
      const fns = new Map(show.functions.map((f) => [f.bdf, f]));
      const slot = (bdf: string): string => bdf.slice(0, -2);
      const alone = new Map<string, { group: number | null; alone: boolean; others: string[] }>();
      for (const f of show.functions) {
        const g = groups.groups.find((x) => x.members.some((m) => m.bdf === f.bdf));
        const others = (g?.members ?? []).map((m) => m.bdf).filter((b) => fns.get(b)!.headerType === 0 && slot(b) !== slot(f.bdf));
        alone.set(f.bdf, { group: g?.id ?? null, alone: g !== undefined && others.length === 0, others });
      }
      const tree = await readSource(file);
      const snapshot = snapshotFromSysfs(tree);
      const risks = hostRisks(snapshot, predict(snapshot)).map((r) => `${r.kind} ${r.bdf ?? "-"}`);
      out.push({ name: nameFromFile(file), groups, show, alone, dmi: hostIdentity(tree), risks });
    }
    return out;
  })();
  return expectedCache;
}

const sortedChanges = (changes: readonly Change[]): string[] =>
  changes
    .map((c) => {
      const side = (x: string[] | string[][]): string => (typeof x[0] === "string" ? [...(x as string[])].sort().join(",") : (x as string[][]).map((g) => [...g].sort().join(",")).sort().join(" | "));
      return `${c.kind}: ${side(c.before)} -> ${side(c.after)}`;
    })
    .sort();

interface Backend {
  readonly name: string;
  readonly skip: string | undefined;
  /** a fresh, empty database: its --db value, and a cleanup */
  readonly fresh: () => Promise<{ db: string; drop: () => Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: "embedded PGlite",
    skip: undefined,
    fresh: async () => {
      const db = await mkdtemp(path.join(tmpdir(), "iommu-atlas-fleet-db-"));
      return { db, drop: () => rm(db, { recursive: true, force: true }) };
    },
  },
  {
    name: "PostgreSQL",
    skip: PG_URL ? undefined : "IOMMU_ATLAS_TEST_POSTGRES_URL is not set; .ci/run starts a server and sets it",
    fresh: async () => {
      const name = `fleet_test_${process.pid}_${Date.now().toString(36)}`;
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = new URL(PG_URL!);
      url.pathname = `/${name}`;
      return {
        db: url.toString(),
        drop: async () => {
          const c = new pg.Client({ connectionString: PG_URL });
          await c.connect();
          await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await c.end();
        },
      };
    },
  },
];

const noOracle = oracleFiles.length === 0 ? "../shared/oracle-cases is absent" : undefined;

for (const backend of backends) {
  const skip = backend.skip ?? noOracle;
  describe.skipIf(skip !== undefined)(`fleet on ${backend.name}${skip ? ` (skipped: ${skip})` : ""}`, { timeout: 240_000 }, () => {
    let db: string;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await backend.fresh());
    }, 60_000);
    afterAll(async () => {
      await drop?.();
    });

    it("ingests the batch: every good capture stored, the corrupt one reported with its file and reason and skipped", async () => {
      const r = await run(["fleet", "ingest", batch, "--db", db, "--jobs", "2"]);
      expect(r.code).toBe(2);
      expect(r.err.split("\n")).toEqual([expect.stringMatching(/^iommu-atlas: .*m-corrupt\.sysfs\.tar\.gz: truncated gzip data .*; skipped$/)]);
      expect(r.out).toMatch(new RegExp(`^${captures.length + 1} captures read in [\\d.]+ s: ${captures.length} hosts added, 0 replaced, 0 already stored, 1 skipped `));
      const hosts = await json<{ hosts: { name: string }[] }>(["fleet", "hosts", "--db", db]);
      expect(hosts.hosts.map((h) => h.name)).toEqual(captures.map(nameFromFile).sort());
    });

    it("re-ingesting the batch is a no-op, and so is capture.sh's archive of a stored host", async () => {
      const r = await run(["fleet", "ingest", batch, "--db", db]);
      expect(r.out).toMatch(new RegExp(`: 0 hosts added, 0 replaced, ${captures.length} already stored, 1 skipped `));
      if (busybox) {
        const sh = path.join(tmp, "from-capture-sh.tar.gz");
        const s = spawnSync(busybox, ["sh", path.resolve("scripts/capture.sh"), "--hostname", "--root", fakeRoot, "-o", sh], { encoding: "utf8" });
        expect(s.status).toBe(0);
        // other tar bytes, the same tree
        expect(Buffer.compare(await readFile(sh), await readFile(path.join(batch, "zz-switchtec.sysfs.tar.gz")))).not.toBe(0);
        const again = await run(["fleet", "ingest", sh, "--db", db]);
        expect(again.code).toBe(0);
        expect(again.out).toMatch(/^1 capture read in [\d.]+ s: 0 hosts added, 0 replaced, 1 already stored, 0 skipped /);
      }
      const hosts = await json<{ hosts: unknown[] }>(["fleet", "hosts", "--db", db]);
      expect(hosts.hosts).toHaveLength(captures.length);
    });

    it("fleet hosts: kernel, IOMMU, group count, largest group and override as `groups` gives them per host; board and BIOS from DMI", async () => {
      const got = await json<{
        hosts: { name: string; kernel: string; iommu: string; groups: number; largestGroup: number; acsOverride: string | null; board: { name: string | null }; bios: { version: string | null } }[];
      }>(["fleet", "hosts", "--db", db]);
      const byName = new Map(got.hosts.map((h) => [h.name, h]));
      for (const e of await expected()) {
        const h = byName.get(e.name)!;
        expect(h, e.name).toBeDefined();
        expect(h.kernel, e.name).toBe(e.groups.kernel.version);
        expect(h.iommu, e.name).toBe(e.groups.iommu.kind);
        expect(h.groups, e.name).toBe(e.groups.groups.length);
        expect(h.largestGroup, e.name).toBe(Math.max(...e.groups.groups.map((g) => g.members.length)));
        expect(h.acsOverride, e.name).toBe(/pcie_acs_override=(\S+)/.exec(e.groups.cmdline)?.[1] ?? null);
        expect(h.board.name, e.name).toBe(e.dmi.dmi.board_name);
        expect(h.bios.version, e.name).toBe(e.dmi.dmi.bios_version);
      }
      const csv = await run(["fleet", "hosts", "--db", db, "--csv"]);
      expect(csv.out.trimEnd().split("\r\n")).toHaveLength(captures.length + 1);
    });

    for (const selector of ["class:02", "8086:10d3", "class:0108"]) {
      it(`fleet alone ${selector}: per host and function, alone exactly when its group holds only its own functions and bridges`, async () => {
        const got = await json<{ hosts: { name: string; alone: boolean; functions: { bdf: string; group: number | null; alone: boolean; reason: string | null }[] }[] }>([
          "fleet",
          "alone",
          selector,
          "--db",
          db,
        ]);
        const byName = new Map(got.hosts.map((h) => [h.name, h]));
        const [a, b] = selector.replace("class:", "").split(":");
        let matched = 0;
        let notAlone = 0;
        for (const e of await expected()) {
          const fns = e.show.functions.filter((f) => (b === undefined ? f.class.startsWith(a!) : f.vendor === a && f.device === b));
          const h = byName.get(e.name);
          if (fns.length === 0) {
            expect(h, e.name).toBeUndefined();
            continue;
          }
          matched += fns.length;
          expect(h!.functions.map((f) => f.bdf)).toEqual(fns.map((f) => f.bdf).sort());
          for (const f of h!.functions) {
            const x = e.alone.get(f.bdf)!;
            expect([f.group, f.alone], `${e.name} ${f.bdf}`).toEqual([x.group, x.alone]);
            if (x.alone) expect(f.reason).toBeNull();
            else if (x.group !== null) {
              notAlone++;
              expect(f.reason).toMatch(new RegExp(`^shares group ${x.group} with ${x.others.sort().join(", ")}; 0000:`));
            }
          }
          expect(h!.alone).toBe(h!.functions.some((f) => f.alone));
        }
        expect(matched).toBeGreaterThan(0);
        if (selector === "class:02") expect(notAlone).toBeGreaterThan(0);
        const text = await run(["fleet", "alone", selector, "--db", db]);
        expect(text.out.split("\n")[0]).toBe(`${got.hosts.length} of ${captures.length} hosts have ${selector}; ${got.hosts.filter((h) => h.alone).length} can give it to a VM alone`);
      });
    }

    for (const change of [["--cmdline", `console=ttyS0 intel_iommu=on ${OVERRIDE}`], ["--kernel", "5.4"], ["--kernel", "6.12", "--cmdline", "intel_iommu=on pci=disable_acs_redir=0000:00:1c.0"]]) {
      it(`fleet whatif ${change.join(" ")}: the hosts and changes that whatif gives per host`, async () => {
        const got = await json<{ hosts: { name: string; changes: Change[] }[] }>(["fleet", "whatif", ...change, "--db", db]);
        const byName = new Map(got.hosts.map((h) => [h.name, h]));
        let changed = 0;
        for (const [i, e] of (await expected()).entries()) {
          const one = await json<{ changes: Change[] }>(["whatif", captures[i]!, ...change]);
          const h = byName.get(e.name);
          if (one.changes.length === 0) expect(h, e.name).toBeUndefined();
          else {
            changed++;
            expect(sortedChanges(h?.changes ?? []), e.name).toEqual(sortedChanges(one.changes));
          }
        }
        expect(got.hosts).toHaveLength(changed);
        if (change[0] === "--cmdline" && change.length === 2) expect(changed).toBeGreaterThan(0);
      });
    }

    it("fleet whatif on worker threads answers as the main thread does", async () => {
      const cmdline = `console=ttyS0 intel_iommu=on ${OVERRIDE}`;
      const change = { cmdline, options: { cmdline } };
      const store = await openDb(db);
      try {
        const main = await fleetWhatIf(store, change, 1);
        const workers = await fleetWhatIf(store, change, 2, 1);
        expect(main.hosts.length).toBeGreaterThan(0);
        expect(workers).toEqual(main);
      } finally {
        await store.close();
      }
    });

    it("fleet risks: the override host, the NT function with unknown proxy aliases, and every risk the core finds per host", async () => {
      const got = await json<{ risks: { host: string; kind: string; bdf: string | null; text: string }[] }>(["fleet", "risks", "--db", db]);
      const exp = await expected();
      const want: string[] = [];
      for (const e of exp) {
        for (const r of e.risks) want.push(`${e.name} ${r}`);
        // the same two, straight from `groups`: the command line and the Switchtec warning
        if (/pcie_acs_override=/.test(e.groups.cmdline)) expect(e.risks).toContain("acs-override -");
        for (const w of e.groups.warnings) {
          const m = /^(\S+): Switchtec NT function: /.exec(w);
          if (m) expect(e.risks).toContain(`ntb-proxy-unknown ${m[1]}`);
        }
      }
      expect(got.risks.map((r) => `${r.host} ${r.kind} ${r.bdf ?? "-"}`).sort()).toEqual(want.sort());
      expect(got.risks.some((r) => r.host === "a-override" && r.kind === "acs-override")).toBe(true);
      expect(got.risks.some((r) => r.host === "zz-switchtec" && r.kind === "ntb-proxy-unknown" && r.bdf === "0000:03:00.1")).toBe(true);
    });

    it("fleet boards: per board × BIOS × kernel, host and device counts add up, and a board that isolates differently across BIOS versions says so", async () => {
      const got = await json<{
        boards: { vendor: string | null; board: string | null; biosVersion: string | null; kernel: string; hosts: number; layouts: number; overrideHosts: number; devices: { nic: { count: number; alone: number } }; differs: boolean }[];
      }>(["fleet", "boards", "--db", db]);
      const rows = new Map<string, { hosts: number; layouts: Set<string>; override: number; nic: number; nicAlone: number }>();
      for (const e of await expected()) {
        const d = e.dmi.dmi;
        const key = [d.board_vendor ?? d.sys_vendor, d.board_name ?? d.product_name, d.bios_version, e.groups.kernel.version].join("|");
        const row = rows.get(key) ?? { hosts: 0, layouts: new Set(), override: 0, nic: 0, nicAlone: 0 };
        row.hosts++;
        row.layouts.add(e.groups.groups.map((g) => g.members.map((m) => m.bdf).sort().join(",")).sort().join("|"));
        if (/pcie_acs_override=/.test(e.groups.cmdline)) row.override++;
        const nics = new Map<string, boolean>();
        for (const f of e.show.functions) {
          if (!f.class.startsWith("02")) continue;
          nics.set(f.bdf.slice(0, -2), (nics.get(f.bdf.slice(0, -2)) ?? true) && e.alone.get(f.bdf)!.alone);
        }
        row.nic += nics.size;
        row.nicAlone += [...nics.values()].filter(Boolean).length;
        rows.set(key, row);
      }
      expect(got.boards).toHaveLength(rows.size);
      for (const b of got.boards) {
        const r = rows.get([b.vendor, b.board, b.biosVersion, b.kernel].join("|"))!;
        expect(r, `${b.board} ${b.biosVersion}`).toBeDefined();
        expect([b.hosts, b.layouts, b.overrideHosts, b.devices.nic.count, b.devices.nic.alone]).toEqual([r.hosts, r.layouts.size, r.override, r.nic, r.nicAlone]);
      }
      const boardA = got.boards.filter((b) => b.board === "Board A");
      expect(boardA.map((b) => [b.biosVersion, b.differs])).toEqual([
        ["1.0", true],
        ["2.0", true],
      ]);
    });

    it("--host-from hostname names hosts by the recorded host name and skips captures without one", async () => {
      const named = path.join(tmp, `named-${backend.name.replace(/\W/g, "")}.tar.gz`);
      const root = path.join(tmp, `plain-root-${backend.name.replace(/\W/g, "")}`);
      await makeFakeSysfs(root);
      await writeArchive((await collectSysfs(root, { readRegisters: true, hostname: true })).tree, named);
      const r = await run(["fleet", "ingest", named, captures[2]!, "--db", db, "--host-from", "hostname"]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/: no host name recorded; capture with --hostname, or ingest with --host-from name; skipped$/);
      expect(r.out).toMatch(/: 1 host added, 0 replaced, 0 already stored, 1 skipped /);
      const hosts = await json<{ hosts: { name: string; hostname: string | null }[] }>(["fleet", "hosts", "--db", db]);
      expect(hosts.hosts.find((h) => h.name === FAKE_HOSTNAME)?.hostname).toBe(FAKE_HOSTNAME);
    });

    it("keeps its schema version: applied once, reopening applies nothing", async () => {
      const a = await openDb(db);
      const rows = await a.query<{ version: number }>("SELECT version FROM fleet_schema_version");
      await a.close();
      const b = await openDb(db);
      const again = await b.query<{ version: number }>("SELECT version FROM fleet_schema_version");
      await b.close();
      expect(rows.map((r) => r.version)).toEqual([1]);
      expect(again).toEqual(rows);
    });
  });
}

describe.skipIf(noOracle !== undefined)(`labels${noOracle ? ` (skipped: ${noOracle})` : ""}`, () => {
  it("writes the node-feature-discovery file atomically, with the counts show and groups give", async () => {
    const out = path.join(tmp, "features.d");
    await mkdir(out);
    const file = path.join(out, "iommu-atlas");
    const exp = (await expected()).find((e) => e.name === "a-override")!;
    const r = await run(["labels", captures[0]!, "-o", file]);
    expect(r.code).toBe(0);
    expect(await readdir(out)).toEqual(["iommu-atlas"]);
    const labels = Object.fromEntries((await readFile(file, "utf8")).trimEnd().split("\n").map((l) => l.split("=") as [string, string]));
    const nics = new Set(exp.show.functions.filter((f) => f.class.startsWith("02")).map((f) => f.bdf.slice(0, -2)));
    expect(labels["iommu-atlas.nic-count"]).toBe(String(nics.size));
    expect(labels["iommu-atlas.acs-override"]).toBe("true");
    expect(labels["iommu-atlas.iommu"]).toBe("true");
    expect(labels["iommu-atlas.nic-isolated"]).toBe("false");

    const bad = await run(["labels", captures[0]!, "-o", path.join(tmp, "no-such-dir", "x")]);
    expect(bad.code).toBe(2);
    expect(bad.err.split("\n")).toHaveLength(1);
    expect(bad.err).toMatch(/no-such-dir\/x: cannot write the feature file: no such file or directory/);
    expect(existsSync(path.join(tmp, "no-such-dir"))).toBe(false);
  });
});
