/**
 * Every kernel oracle case in ../shared/oracle-cases (QEMU q35 + Debian 6.1):
 * its DMAR / IVRS parses without issues, and the unit `claimDmar` /
 * `claimIvrs` picks for each PCI function agrees with the kernel: a function
 * is claimed exactly when the kernel put it in an IOMMU group.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { claimDmar, claimIvrs, dmarUnits, isDmarUnitIgnored, ivrsUnits } from "./claim.js";
import type { PciResolver } from "./claim.js";
import { parseDmar } from "./dmar.js";
import { formatAcpiIssue } from "./issues.js";
import { parseIvrs } from "./ivrs.js";

const ORACLE_DIR = fileURLToPath(new URL("../../../../shared/oracle-cases/", import.meta.url));

interface TarEntry {
  /** path without a leading "./" */
  readonly name: string;
  /** "0" file, "2" symlink, "5" directory, … */
  readonly type: string;
  readonly data: Uint8Array;
}

/** a tiny walk over a .tar.gz (GNU or ustar, GNU long names) */
function untar(gz: Uint8Array): TarEntry[] {
  const tar = gunzipSync(gz);
  const latin1 = new TextDecoder("latin1");
  const text = (src: Uint8Array, at: number, size: number): string => {
    const raw = src.subarray(at, at + size);
    const nul = raw.indexOf(0);
    return latin1.decode(nul < 0 ? raw : raw.subarray(0, nul));
  };
  const entries: TarEntry[] = [];
  let longName: string | undefined;
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(text(h, 124, 12).trim() || "0", 8);
    const type = String.fromCharCode(h[156]!);
    const data = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = text(data, 0, data.length);
      continue;
    }
    // POSIX ustar keeps a path prefix at 345; GNU ("ustar  ") uses that area for other fields
    const prefix = text(h, 257, 6) === "ustar" ? text(h, 345, 155) : "";
    const name = longName ?? (prefix ? `${prefix}/${text(h, 0, 100)}` : text(h, 0, 100));
    longName = undefined;
    entries.push({ name: name.replace(/^\.\//, ""), type: type === "\0" ? "0" : type, data });
  }
  return entries;
}

interface Fn {
  readonly bdf: string;
  readonly segment: number;
  readonly bus: number;
  readonly devfn: number;
}

const BDF = /([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])/;
const toFn = (bdf: string): Fn => {
  const m = BDF.exec(bdf)!;
  return { bdf, segment: parseInt(m[1]!, 16), bus: parseInt(m[2]!, 16), devfn: (parseInt(m[3]!, 16) << 3) | Number(m[4]) };
};

function loadCase(path: string) {
  const entries = untar(new Uint8Array(readFileSync(path)));
  const files = new Map(entries.filter((e) => e.type === "0").map((e) => [e.name, e.data]));
  const configs = new Map<string, Uint8Array>();
  for (const [p, data] of files) {
    const m = /^sys\/devices\/.*\/([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\/config$/.exec(p);
    if (m) configs.set(m[1]!, data);
  }
  const grouped = new Set<string>();
  for (const { name } of entries) {
    const m = /^sys\/kernel\/iommu_groups\/\d+\/devices\/([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])$/.exec(name);
    if (m) grouped.add(m[1]!);
  }
  const fns = [...configs.keys()].sort().map(toFn);
  const byLoc = new Map(fns.map((f) => [`${f.segment}:${f.bus}:${f.devfn}`, configs.get(f.bdf)!]));
  const resolver: PciResolver = {
    exists: (s, b, d) => byLoc.has(`${s}:${b}:${d}`),
    bridgeRange: (s, b, d) => {
      const cfg = byLoc.get(`${s}:${b}:${d}`);
      const headerType = (cfg?.[0x0e] ?? 0) & 0x7f;
      if (!cfg || (headerType !== 1 && headerType !== 2)) return undefined;
      return { secondary: cfg[0x19]!, subordinate: cfg[0x1a]! };
    },
  };
  return {
    dmar: files.get("sys/firmware/acpi/tables/DMAR"),
    ivrs: files.get("sys/firmware/acpi/tables/IVRS"),
    fns,
    grouped,
    resolver,
  };
}

const cases = existsSync(ORACLE_DIR) ? readdirSync(ORACLE_DIR).filter((f) => f.endsWith(".sysfs.tar.gz")).sort() : [];

if (cases.length === 0) {
  test.skip(`oracle cases: ${ORACLE_DIR} not found (fresh clone without ../shared); the fixtures/ tests still run`, () => {});
} else {
  describe("kernel oracle cases", () => {
    test("there are cases of both vendors", () => {
      expect(cases.length).toBeGreaterThan(100);
    });

    test.each(cases)("%s", (file) => {
      const c = loadCase(`${ORACLE_DIR}${file}`);
      expect(c.fns.length).toBeGreaterThan(0);
      expect(c.grouped.size).toBeGreaterThan(0);
      const claimed = new Set<string>();
      if (c.dmar) {
        const t = parseDmar(c.dmar);
        expect(t.issues.map(formatAcpiIssue)).toEqual([]);
        const units = dmarUnits(t);
        expect(units.map((u) => u.name)).toEqual(["dmar0"]);
        expect(isDmarUnitIgnored(units, units[0]!, c.resolver)).toBe(false);
        for (const f of c.fns) if (claimDmar(units, c.resolver, f)) claimed.add(f.bdf);
      } else {
        expect(c.ivrs, "capture holds a DMAR or an IVRS").toBeDefined();
        const t = parseIvrs(c.ivrs!);
        expect(t.issues.map(formatAcpiIssue)).toEqual([]);
        expect(t.usedIvhdType).toBe(0x10);
        const units = ivrsUnits(t);
        expect(units.map((u) => [u.name, u.iommuBdf])).toEqual([["ivhd0", 0x0008]]);
        // QEMU's amd-iommu function 00:01.0 is present, listed by the IVHD, and never claimed
        expect(c.fns.some((f) => f.bdf === "0000:00:01.0")).toBe(true);
        for (const f of c.fns) if (claimIvrs(units, (f.bus << 8) | f.devfn, f.segment)) claimed.add(f.bdf);
        expect(claimed.has("0000:00:01.0")).toBe(false);
      }
      expect([...claimed].sort()).toEqual([...c.grouped].sort());
    });
  });
}
