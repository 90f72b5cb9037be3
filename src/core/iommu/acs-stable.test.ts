/**
 * config_acs= / disable_acs_redir= by full kernel version: the arithmetic
 * changed inside the 6.12, 6.13 and 6.14 stable series (drivers/pci/pci.c,
 * __pci_config_acs()). Firmware leaves ACS control at 0 here, as QEMU does.
 */
import { describe, expect, it } from "vitest";
import { fnInput, parts, snapshotOf } from "../testing/topology-builder.js";
import { predict } from "./predict.js";
import type { Prediction } from "./predict.js";

const PORT = "0000:00:1c.0";
const machine = () => [fnInput("00:1c.0", { ...parts.rootPort(1), acs: { cap: 0x1d, ctrl: 0 } }), fnInput("01:00.0", parts.endpoint())];
const boot = (cmdline: string, osrelease: string): Prediction => predict(snapshotOf(machine(), { cmdline, osrelease }), { acsMode: "boot" });
const isolated = (p: Prediction): boolean => p.groups.groupOf.get(PORT) !== p.groups.groupOf.get("0000:01:00.0");
const ctrlOf = (p: Prediction): number | undefined => p.ctrl.ctrl.get(PORT);

describe("ACS parameters by stable release", () => {
  it("config_acs=xxxxx leaves the port at the firmware value from 6.12.23 on, so it no longer isolates", () => {
    const cmdline = `pci=config_acs=xxxxx@${PORT}`;
    const fixed = boot(cmdline, "6.12.118+deb12-amd64");
    expect(ctrlOf(fixed)).toBe(0);
    expect(isolated(fixed)).toBe(false);
    const buggy = boot(cmdline, "6.12.22");
    expect(ctrlOf(buggy)).toBe(0x1d);
    expect(isolated(buggy)).toBe(true);
    // 6.1 has no config_acs=: the kernel's enabling stands
    const old = boot(cmdline, "6.1.0-37-amd64");
    expect(ctrlOf(old)).toBe(0x1d);
    expect(old.warnings.some((w) => w.includes("config_acs= needs kernel 6.11"))).toBe(true);
  });

  it("disable_acs_redir= keeps the kernel's SV/UF before 6.11 and takes the firmware value after the fix", () => {
    const cmdline = `pci=disable_acs_redir=${PORT}`;
    expect(ctrlOf(boot(cmdline, "6.1.140"))).toBe(0x11);
    expect(ctrlOf(boot(cmdline, "6.12.22"))).toBe(0xffd3);
    expect(ctrlOf(boot(cmdline, "6.13.11"))).toBe(0);
    expect(ctrlOf(boot(cmdline, "6.14.1"))).toBe(0xffd3);
    expect(ctrlOf(boot(cmdline, "6.14.2"))).toBe(0);
    for (const r of ["6.1.140", "6.12.22", "6.12.118"]) expect(isolated(boot(cmdline, r))).toBe(false);
  });

  it("config_acs= flags set on top of the firmware value after the fix", () => {
    const p = boot(`pci=disable_acs_redir=${PORT},config_acs=xx111x1@${PORT}`, "6.12.118");
    expect(ctrlOf(p)).toBe(0x1d);
    expect(isolated(p)).toBe(true);
  });

  it("says what it assumed: the firmware's control value, and the patch level when the version lacks one", () => {
    const p = boot(`pci=config_acs=xxxxx@${PORT}`, "6.12.118");
    expect(p.warnings).toContain(`${PORT}: the firmware's ACS control value is not in the source; assumed 0 (what firmware and QEMU leave), which config_acs=/disable_acs_redir= start from for every flag they do not name`);
    const q = predict(snapshotOf(machine(), { cmdline: `pci=config_acs=xxxxx@${PORT}` }), { acsMode: "boot", kernel: { major: 6, minor: 12 } });
    expect(ctrlOf(q)).toBe(0);
    expect(q.warnings.some((w) => w.startsWith("kernel 6.12 without a patch level: assuming 6.12.23 or later"))).toBe(true);
    // no parameter: nothing assumed
    expect(boot("", "6.12.118").warnings.filter((w) => w.includes("assum") && w.includes("ACS"))).toEqual([]);
  });

  it("an explicit --kernel with a patch level wins over the source", () => {
    const p = predict(snapshotOf(machine(), { cmdline: `pci=config_acs=xxxxx@${PORT}`, osrelease: "6.12.118+deb12-amd64" }), {
      acsMode: "boot",
      kernel: { major: 6, minor: 12, patch: 10 },
    });
    expect(p.kernelFrom).toBe("option");
    expect(ctrlOf(p)).toBe(0x1d);
  });

  it("Intel PCH ports: the ACS quirk hook is back from 6.11.7 and in every 6.12", () => {
    // the PCH quirk itself is exercised in predict.test.ts; here only its version gate
    const spt = [fnInput("00:1c.0", { ...parts.rootPort(1, 1, false), vendor: 0x8086, device: 0x8c10 }), fnInput("01:00.0", parts.endpoint())];
    const at = (osrelease: string) => predict(snapshotOf(spt, { osrelease }), { acsMode: "boot" });
    const iso = (p: Prediction) => p.groups.groupOf.get("0000:00:1c.0") !== p.groups.groupOf.get("0000:01:00.0");
    expect(iso(at("6.11.6"))).toBe(false);
    expect(iso(at("6.1.0-37-amd64"))).toBe(true);
    expect(iso(at("6.11.7"))).toBe(true);
    expect(iso(at("6.12.0"))).toBe(true);
  });
});
