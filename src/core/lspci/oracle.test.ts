import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeArchive } from "../../cli/sysfs/archive.js";
import { snapshotFromSysfs } from "../sources/from-sysfs.js";
import type { Snapshot } from "../sources/snapshot.js";
import { snapshotFromLspci } from "./index.js";
import { projectSnapshot } from "./project.js";
import { renderLspciHex } from "./render-hex.js";

const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), "fixtures", "oracle");
const oracleDir = path.resolve("..", "shared", "oracle-cases");
const sharedArchives = existsSync(oracleDir) ? readdirSync(oracleDir).filter((f) => f.endsWith(".sysfs.tar.gz")).sort() : [];
const fixtureArchives = readdirSync(fixtures).filter((f) => f.endsWith(".sysfs.tar.gz")).sort();

function lspciPath(): string | undefined {
  try {
    execFileSync("lspci", ["--version"], { stdio: "pipe" });
    return "lspci";
  } catch {
    return undefined;
  }
}
const lspci = lspciPath();

function binary(file: string): Snapshot {
  return snapshotFromSysfs(decodeArchive(new Uint8Array(readFileSync(file)), file));
}

function text(t: string): Snapshot {
  const r = snapshotFromLspci(t);
  if (!r.ok) throw new Error(`line ${r.line}: ${r.reason}: ${r.text}`);
  return r.snapshot;
}

describe("every oracle archive, rendered as -xxxx text and read back, gives the identical model", () => {
  it.each(fixtureArchives)("fixture %s", (name) => {
    const snap = binary(path.join(fixtures, name));
    const back = snapshotFromLspci(renderLspciHex(snap));
    expect(back.ok && back.format).toBe("hex");
    expect(projectSnapshot(text(renderLspciHex(snap)), { detail: true })).toEqual(projectSnapshot(snap, { detail: true }));
  });
  it.skipIf(sharedArchives.length === 0)("../shared/oracle-cases (skipped when absent)", () => {
    for (const name of sharedArchives) {
      const snap = binary(path.join(oracleDir, name));
      expect(projectSnapshot(text(renderLspciHex(snap)), { detail: true }), name).toEqual(projectSnapshot(snap, { detail: true }));
    }
  });
});

describe("stored real lspci output agrees with the binary capture of the same machine", () => {
  const stored = readdirSync(fixtures).filter((f) => f.endsWith(".txt"));
  it.each(stored)("%s", (file) => {
    const name = file.replace(/\.lspci-.*$/, "");
    const snap = binary(path.join(fixtures, `${name}.sysfs.tar.gz`));
    const read = text(readFileSync(path.join(fixtures, file), "utf8"));
    const opts = { groups: file.includes("-vvvnn"), loneFunctionZero: !file.includes("-xxxx") };
    expect(projectSnapshot(read, opts)).toEqual(projectSnapshot(snap, opts));
  });
});

// every named case and every 8th random one, to keep the suite quick; ORACLE_ALL=1 runs all 124
const lspciCases =
  process.env.ORACLE_ALL === "1" ? sharedArchives : sharedArchives.filter((n) => !n.startsWith("rand-") || Number(/^rand-(\d+)/.exec(n)![1]) % 8 === 1);

describe.skipIf(lspci === undefined || sharedArchives.length === 0)(
  "real lspci on extracted oracle archives agrees with the binary reader (skipped: needs pciutils and ../shared)",
  () => {
    const work = lspci ? mkdtempSync(path.join(tmpdir(), "iommu-atlas-lspci-")) : "";
    afterAll(() => {
      if (work) rmSync(work, { recursive: true, force: true });
    });
    // the text shows fn 0's multi-function bit only through listed siblings (see index.ts)
    const textOpts = { groups: true, loneFunctionZero: true };
    const run = (root: string, args: string[]): string =>
      execFileSync(lspci!, ["-O", `sysfs.path=${path.join(root, "sys/bus/pci")}`, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 << 20 });
    it.each(lspciCases)("%s", (name) => {
      const root = path.join(work, name.replace(".sysfs.tar.gz", ""));
      execFileSync("mkdir", ["-p", root]);
      execFileSync("tar", ["-xzf", path.join(oracleDir, name), "-C", root]);
      const snap = binary(path.join(oracleDir, name));
      const verbose = snapshotFromLspci(run(root, ["-D", "-vvvnn"]));
      const hex = snapshotFromLspci(run(root, ["-D", "-xxxx"]));
      rmSync(root, { recursive: true, force: true });
      expect(verbose.ok && verbose.format).toBe("verbose");
      expect(hex.ok && hex.format).toBe("hex");
      if (!verbose.ok || !hex.ok) return;
      expect(projectSnapshot(verbose.snapshot, textOpts)).toEqual(projectSnapshot(snap, textOpts));
      expect(projectSnapshot(hex.snapshot)).toEqual(projectSnapshot(snap));
    });
  },
);
