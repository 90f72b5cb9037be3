/**
 * A capture must be readable by pciutils itself (`lspci -O sysfs.path=…`),
 * and lspci and our decoder must agree on what both show: bridges' bus
 * numbers, PCIe types, ACS bits, ids, groups.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { snapshotFromLspci } from "../../core/lspci/index.js";
import { projectSnapshot } from "../../core/lspci/project.js";
import { snapshotFromSysfs } from "../../core/sources/from-sysfs.js";
import { capture } from "../commands/capture.js";
import { readSource } from "./archive.js";

const hasLspci = ((): boolean => {
  try {
    execFileSync("lspci", ["--version"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
})();

const work = mkdtempSync(path.join(tmpdir(), "atlas-lspci-capture-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function lspciOn(archive: string, args: string[]): string {
  const root = mkdtempSync(path.join(work, "x-"));
  execFileSync("tar", ["-xzf", archive, "-C", root]);
  return execFileSync("lspci", ["-O", `sysfs.path=${path.join(root, "sys/bus/pci")}`, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}

async function expectAgreement(archive: string): Promise<void> {
  const ours = snapshotFromSysfs(await readSource(archive));
  const verbose = snapshotFromLspci(lspciOn(archive, ["-D", "-vvvnn"]));
  const hex = snapshotFromLspci(lspciOn(archive, ["-D", "-xxxx"]));
  if (!verbose.ok || !hex.ok) throw new Error(`lspci output not read: ${JSON.stringify(verbose.ok ? hex : verbose)}`);
  expect(projectSnapshot(verbose.snapshot, { groups: true, loneFunctionZero: true })).toEqual(projectSnapshot(ours, { groups: true, loneFunctionZero: true }));
  expect(projectSnapshot(hex.snapshot)).toEqual(projectSnapshot(ours));
}

describe.skipIf(!hasLspci)("lspci reads our captures and agrees with our decoder (skipped: pciutils not installed)", () => {
  const regressions = path.resolve("src", "cli", "fixtures", "kernel-oracle");
  for (const name of readdirSync(regressions).filter((n) => n.endsWith(".sysfs.tar.gz"))) {
    it(`scripts/capture.sh in a real guest: ${name}`, () => expectAgreement(path.join(regressions, name)));
  }

  const hostHasPci = existsSync("/sys/bus/pci/devices") && readdirSync("/sys/bus/pci/devices").length > 0;
  it.skipIf(!hostHasPci)("iommu-atlas capture of this host (skipped when the host shows no PCI functions)", async () => {
    const out = path.join(work, "host.tar.gz");
    expect(await capture({ output: out, log: () => undefined })).toBe(0);
    await expectAgreement(out);
  });
});
