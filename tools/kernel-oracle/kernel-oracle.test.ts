// Unit tests of the kernel oracle's generator, QEMU argv builder, initramfs and capture parsing.
// Booting is not tested here (npm run test:kernel does that).

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { compareGroups, readCapture } from "./archive.mjs";
import { KERNEL_PACKAGES, extractVmlinux, findKernel, hasPvhNote, kernelSeries, payloadFormat, shellQuote } from "./boot.mjs";
import {
  addr,
  deviceArgs,
  describeFeatures,
  expectedBdfs,
  expectedGuestBdfs,
  generateTopology,
  kernelCmdline,
  mulberry32,
  qemuArgs,
  validateTopology,
  type Topology,
  type TopologyDevice,
} from "./gen.mjs";
import { BEGIN_MARKER, END_MARKER, INIT_SCRIPT, buildInitramfs, cpioNewc, parseSerialCapture, readCpioNewc } from "./initramfs.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ORACLE = resolve(HERE, "../../../shared/oracle-cases");
const haveOracle = existsSync(join(ORACLE, "README.md"));

function topo(devices: TopologyDevice[], extra: Partial<Topology> = {}): Topology {
  return { name: "t", description: "test", devices, ...extra };
}

function readSeeds(): number[] {
  return readFileSync(join(HERE, "seeds.txt"), "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter((l) => l !== "")
    .map(Number);
}

describe("mulberry32", () => {
  it("is a fixed sequence per seed", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    // pinned: a change here changes every generated topology and the meaning of seeds.txt
    expect(mulberry32(1)()).toBeCloseTo(0.6270739405881613, 15);
    expect(mulberry32(0)()).not.toBe(mulberry32(1)());
  });
});

describe("generateTopology", () => {
  it("writes config_acs= for root ports with ACS, in accepted and rejected forms", () => {
    const forms = new Set<string>();
    for (let seed = 0; seed < 600; seed++) {
      const t = generateTopology(seed);
      const value = /(?:^|\s)pci=config_acs=(\S+)/.exec(t.kernel_args ?? "")?.[1];
      if (value === undefined) continue;
      const acsPorts = new Set([...expectedBdfs(t).entries()].flatMap(([id, b]) => {
        const d = t.devices.find((x) => x.id === id);
        return d?.driver === "pcie-root-port" && d.props?.["disable-acs"] !== "on" && b !== null ? [b] : [];
      }));
      for (const e of value.split(";")) {
        const m = /^([^@]*)@(.*)$/.exec(e);
        if (m === null) forms.add("no-at");
        else if (/^[01xX]{1,7}$/.test(m[1]!)) forms.add("accepted");
        else if (/[^01xX]/.test(m[1]!)) forms.add("bad-char");
        else forms.add("too-many-flags");
        if (m !== null) expect(acsPorts, `${t.name}: ${e}`).toContain(m[2]);
      }
    }
    expect([...forms].sort()).toEqual(["accepted", "bad-char", "no-at", "too-many-flags"]);
  });

  it("is reproducible and differs between seeds", () => {
    expect(generateTopology(123)).toEqual(generateTopology(123));
    expect(JSON.stringify(generateTopology(123))).not.toBe(JSON.stringify(generateTopology(124)));
    expect(generateTopology(123).name).toBe("gen-123");
  });

  it("rejects seeds that are not 32-bit unsigned integers", () => {
    expect(() => generateTopology(-1)).toThrow(RangeError);
    expect(() => generateTopology(2 ** 32)).toThrow(RangeError);
    expect(() => generateTopology(1.5)).toThrow(RangeError);
  });

  it("keeps the rest of the topology when the IOMMU is forced", () => {
    const free = generateTopology(77);
    for (const iommu of ["intel", "amd"] as const) {
      const forced = generateTopology(77, { iommu });
      expect(forced.name).toBe(`gen-77-${iommu}`);
      expect(forced.iommu === "amd").toBe(iommu === "amd");
      expect(forced.devices).toEqual(free.devices);
    }
  });

  it("produces only topologies that QEMU accepts, over many seeds", () => {
    for (let seed = 0; seed < 3000; seed++) {
      const t = generateTopology(seed);
      expect(validateTopology(t), `seed ${seed}`).toEqual([]);
      expect(t.devices.length).toBeGreaterThan(0);
    }
  });

  it("gives PCIe ports unique chassis/slot pairs and pci-bridges unique chassis_nr", () => {
    for (let seed = 0; seed < 500; seed++) {
      const args = deviceArgs(generateTopology(seed));
      const pairs = args
        .filter((a) => /^(pcie-root-port|ioh3420|xio3130-downstream),/.test(a))
        .map((a) => `${/chassis=(\d+)/.exec(a)?.[1]}/${/,slot=(\d+)/.exec(a)?.[1]}`);
      expect(new Set(pairs).size).toBe(pairs.length);
      expect(pairs.every((p) => !p.includes("undefined"))).toBe(true);
      const chassisNr = args.filter((a) => a.startsWith("pci-bridge,")).map((a) => /chassis_nr=(\d+)/.exec(a)?.[1]);
      expect(new Set(chassisNr).size).toBe(chassisNr.length);
      expect(chassisNr.every((c) => c !== undefined && c !== "0")).toBe(true);
    }
  });

  it("covers every feature across seeds, with Intel and AMD", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 400; seed++) for (const f of describeFeatures(generateTopology(seed))) seen.add(f);
    for (const f of [
      "root-port-acs",
      "root-port-no-acs",
      "ioh3420",
      "switch",
      "nested-switch",
      "pcie-pci-bridge",
      "pci-bridge",
      "nested-pci-bridge",
      "dmi-pci-bridge",
      "pxb-pcie",
      "bus0-endpoint",
      "mf-endpoint",
      "mf-ports",
      "mf-mixed",
      "unscanned",
      "disable-acs-redir",
      "pcie-scan-all",
      "config-acs",
      "config-acs-rejected",
      "intel",
      "amd",
    ]) {
      expect(seen, f).toContain(f);
    }
  });

  it("writes disable_acs_redir only for root ports that keep ACS", () => {
    let found = 0;
    for (let seed = 0; seed < 400; seed++) {
      const t = generateTopology(seed);
      const m = /(?:^|\s)pci=disable_acs_redir=(\S+)/.exec(t.kernel_args ?? "");
      if (!m) continue;
      found++;
      const bdfs = expectedBdfs(t);
      for (const target of (m[1] ?? "").split(";")) {
        const dev = t.devices.find((d) => bdfs.get(d.id) === target);
        expect(dev?.driver, `seed ${seed} ${target}`).toBe("pcie-root-port");
        expect(dev?.props?.["disable-acs"]).toBeUndefined();
      }
    }
    expect(found).toBeGreaterThan(5);
  });
});

describe("validateTopology", () => {
  const rp: TopologyDevice = { id: "rp", driver: "pcie-root-port", bus: "pcie.0", addr: "02.0" };

  it("accepts a simple topology", () => {
    expect(validateTopology(topo([rp, { id: "e", driver: "e1000e", bus: "rp" }]))).toEqual([]);
  });

  it.each([
    ["an unknown bus", [{ id: "e", driver: "e1000e", bus: "nope" }], /not pcie.0 nor an earlier device/],
    ["a duplicate id", [rp, { ...rp, addr: "03.0" }], /duplicate id/],
    ["a taken address", [rp, { id: "e", driver: "e1000e", bus: "pcie.0", addr: "02.0" }], /already holds rp/],
    [
      "a second function without multifunction=on",
      [rp, { id: "r2", driver: "pcie-root-port", bus: "pcie.0", addr: "02.1" }],
      /needs multifunction=on/,
    ],
    ["q35's own slot", [{ ...rp, addr: "1f.4" }], /belongs to q35/],
    ["a switch upstream port on pcie.0", [{ id: "u", driver: "x3130-upstream", bus: "pcie.0", addr: "03.0" }], /below a root or downstream port/],
    ["a downstream port below a root port", [rp, { id: "d", driver: "xio3130-downstream", bus: "rp" }], /below an x3130-upstream/],
    [
      "an endpoint below a switch upstream port",
      [rp, { id: "u", driver: "x3130-upstream", bus: "rp" }, { id: "e", driver: "e1000e", bus: "u" }],
      /only xio3130-downstream/,
    ],
    [
      "slot 0 of a pci-bridge",
      [{ id: "b", driver: "pci-bridge", bus: "pcie.0", addr: "03.0" }, { id: "e", driver: "e1000", bus: "b", addr: "00.0" }],
      /hot-plug controller/,
    ],
    [
      "disable-acs on a downstream port",
      [rp, { id: "u", driver: "x3130-upstream", bus: "rp" }, { id: "d", driver: "xio3130-downstream", bus: "u", addr: "00.0", props: { "disable-acs": "on" } }],
      /only on root ports/,
    ],
    ["a bad addr", [{ ...rp, addr: "2" }], /not slot.function/],
    ["nvme without serial", [{ id: "n", driver: "nvme", bus: "pcie.0", addr: "04.0" }], /serial/],
    ["a pxb-pcie without bus_nr", [{ id: "x", driver: "pxb-pcie", bus: "pcie.0", addr: "04.0" }], /bus_nr/],
  ] as [string, TopologyDevice[], RegExp][])("rejects %s", (_what, devices, message) => {
    const errors = validateTopology(topo(devices));
    expect(errors.join("\n")).toMatch(message);
  });

  it("keeps slot 01 of pcie.0 for amd-iommu", () => {
    expect(validateTopology(topo([{ ...rp, addr: "01.0" }]))).toEqual([]);
    expect(validateTopology(topo([{ ...rp, addr: "01.0" }], { iommu: "amd" })).join()).toMatch(/amd-iommu/);
  });

  it("rejects a bus hierarchy that runs into a pxb-pcie's bus_nr", () => {
    const devices: TopologyDevice[] = [{ id: "x", driver: "pxb-pcie", bus: "pcie.0", addr: "09.0", props: { bus_nr: 2 } }];
    for (let i = 0; i < 3; i++) devices.push({ id: `r${i}`, driver: "pcie-root-port", bus: "pcie.0", addr: addr(2 + i, 0) });
    expect(validateTopology(topo(devices)).join()).toMatch(/past bus_nr 02/);
  });

  it("rejects kernel_args that override the harness's own", () => {
    expect(validateTopology(topo([rp], { kernel_args: "intel_iommu=off" })).join()).toMatch(/must not override/);
  });
});

describe("expectedBdfs", () => {
  it("numbers buses depth-first in devfn order, pcie.0 first and pxb-pcie at bus_nr", () => {
    const t = topo([
      { id: "x", driver: "pxb-pcie", bus: "pcie.0", addr: "09.0", props: { bus_nr: 64 } },
      { id: "rx", driver: "pcie-root-port", bus: "x", addr: "00.0" },
      { id: "ex", driver: "e1000e", bus: "rx" },
      { id: "rb", driver: "pcie-root-port", bus: "pcie.0", addr: "03.0" }, // created first, scanned second
      { id: "ra", driver: "pcie-root-port", bus: "pcie.0", addr: "02.0" },
      { id: "u", driver: "x3130-upstream", bus: "ra" },
      { id: "d1", driver: "xio3130-downstream", bus: "u", addr: "01.0" },
      { id: "d0", driver: "xio3130-downstream", bus: "u", addr: "00.0" },
      { id: "e1", driver: "virtio-net-pci", bus: "d1" },
      { id: "eb", driver: "e1000e", bus: "rb" },
    ]);
    expect(validateTopology(t)).toEqual([]);
    expect(Object.fromEntries(expectedBdfs(t))).toEqual({
      x: "0000:00:09.0",
      rx: "0000:40:00.0",
      ex: "0000:41:00.0",
      ra: "0000:00:02.0",
      u: "0000:01:00.0",
      d0: "0000:02:00.0",
      d1: "0000:02:01.0",
      e1: "0000:04:00.0",
      rb: "0000:00:03.0",
      eb: "0000:05:00.0",
    });
  });

  it("leaves out functions without function 0 and devices past device 0 below a port", () => {
    const t = topo([
      { id: "a", driver: "virtio-rng-pci", bus: "pcie.0", addr: "05.1" },
      { id: "rp", driver: "pcie-root-port", bus: "pcie.0", addr: "02.0" },
      { id: "e0", driver: "e1000e", bus: "rp", addr: "00.0" },
      { id: "e1", driver: "e1000e", bus: "rp", addr: "01.0" },
      { id: "s0", driver: "e1000", bus: "pcie.0", addr: "06.0" },
    ]);
    expect(expectedBdfs(t).get("a")).toBeNull();
    expect(expectedBdfs(t).get("e1")).toBeNull();
    expect(expectedBdfs(t).get("e0")).toBe("0000:01:00.0");
    expect(expectedGuestBdfs(t)).toEqual([
      "0000:00:00.0",
      "0000:00:02.0",
      "0000:00:06.0",
      "0000:00:1f.0",
      "0000:00:1f.2",
      "0000:00:1f.3",
      "0000:01:00.0",
    ]);
    expect(expectedGuestBdfs({ ...t, iommu: "amd" })).toContain("0000:00:01.0");
  });

  it("scans every device number below a port with pci=pcie_scan_all", () => {
    const t = topo(
      [
        { id: "rp", driver: "pcie-root-port", bus: "pcie.0", addr: "02.0" },
        { id: "e0", driver: "e1000e", bus: "rp", addr: "00.0" },
        { id: "e1", driver: "e1000e", bus: "rp", addr: "03.0" },
      ],
      { kernel_args: "pci=disable_acs_redir=0000:00:02.0 pci=pcie_scan_all" },
    );
    expect(expectedBdfs(t).get("e1")).toBe("0000:01:03.0");
    expect(describeFeatures(t)).toContain("pcie-scan-all");
  });
});

describe("QEMU command line", () => {
  const t = topo([
    { id: "rp", driver: "pcie-root-port", bus: "pcie.0", addr: "1c.0", props: { multifunction: "on" } },
    { id: "rq", driver: "pcie-root-port", bus: "pcie.0", addr: "1c.1", props: { "disable-acs": "on" } },
    { id: "b", driver: "pci-bridge", bus: "pcie.0", addr: "05.0" },
    { id: "n", driver: "e1000", bus: "b", addr: "01.0" },
    { id: "v", driver: "nvme", bus: "rp", props: { serial: "s1" } },
    { id: "x", driver: "pxb-pcie", bus: "pcie.0", addr: "09.0", props: { bus_nr: 64 } },
  ]);

  it("spells each device with chassis/slot, chassis_nr and romfile= where QEMU needs them", () => {
    expect(deviceArgs(t)).toEqual([
      "pcie-root-port,id=rp,bus=pcie.0,addr=1c.0,multifunction=on,chassis=1,slot=1",
      "pcie-root-port,id=rq,bus=pcie.0,addr=1c.1,disable-acs=on,chassis=2,slot=2",
      "pci-bridge,id=b,bus=pcie.0,addr=05.0,chassis_nr=3",
      "e1000,id=n,bus=b,addr=01.0,romfile=",
      "nvme,id=v,bus=rp,serial=s1",
      "pxb-pcie,id=x,bus=pcie.0,addr=09.0,bus_nr=64",
    ]);
  });

  it("boots q35 with TCG, no defaults, the IOMMU before every other device", () => {
    const args = qemuArgs(t, { kernel: "/boot/vmlinuz-x", initrd: "/tmp/i.gz", consoleLog: "/tmp/c.log" });
    const at = (flag: string) => args[args.indexOf(flag) + 1];
    expect(at("-M")).toBe("q35");
    expect(at("-accel")).toBe("tcg");
    expect(args).toContain("-nodefaults");
    expect(args).toContain("-no-reboot");
    expect(at("-kernel")).toBe("/boot/vmlinuz-x");
    expect(at("-initrd")).toBe("/tmp/i.gz");
    expect(at("-serial")).toBe("file:/tmp/c.log");
    expect(args.filter((a) => a === "-serial")).toHaveLength(1);
    expect(at("-device")).toBe("intel-iommu,intremap=off");
    expect(args.filter((a) => a === "-device")).toHaveLength(t.devices.length + 1);
    const amd = qemuArgs({ ...t, iommu: "amd" }, { kernel: "k", initrd: "i", consoleLog: "c" });
    expect(amd[amd.indexOf("-device") + 1]).toBe("amd-iommu");
  });

  it("uses the recorded cases' kernel command lines", () => {
    expect(kernelCmdline(t)).toBe("console=ttyS0 intel_iommu=on iommu=nopt quiet panic=-1");
    expect(kernelCmdline({ ...t, iommu: "amd", kernel_args: "pci=disable_acs_redir=0000:00:1c.1" })).toBe(
      "console=ttyS0 amd_iommu=on iommu=nopt quiet panic=-1 pci=disable_acs_redir=0000:00:1c.1",
    );
  });
});

describe("seeds.txt", () => {
  const seeds = readSeeds();

  it("lists 22 distinct 32-bit seeds", () => {
    expect(seeds).toHaveLength(22);
    expect(new Set(seeds).size).toBe(22);
    expect(seeds.every((s) => Number.isInteger(s) && s >= 0 && s <= 0xffffffff)).toBe(true);
  });

  it("covers every generator feature, with Intel and AMD, and stays small enough for ~2 minutes", () => {
    const topologies = seeds.map((s) => generateTopology(s));
    const seen = new Set(topologies.flatMap((t) => describeFeatures(t)));
    const all = new Set<string>();
    for (let seed = 0; seed < 400; seed++) for (const f of describeFeatures(generateTopology(seed))) all.add(f);
    expect([...all].filter((f) => !seen.has(f))).toEqual([]);
    const devices = topologies.reduce((n, t) => n + t.devices.length, 0);
    expect(devices).toBeLessThanOrEqual(320);
  });
});

describe("initramfs", () => {
  it("writes newc archives that read back", () => {
    const cpio = cpioNewc([
      { name: "bin", type: "dir" },
      { name: "bin/x", type: "file", perm: 0o755, data: "hello" },
      { name: "bin/y", type: "symlink", target: "x" },
      { name: "dev/console", type: "char", perm: 0o600, rdev: [5, 1] },
    ]);
    expect(cpio.length % 512).toBe(0);
    expect(cpio.subarray(0, 6).toString()).toBe("070701");
    const entries = readCpioNewc(cpio);
    expect(entries.map((e) => e.name)).toEqual(["bin", "bin/x", "bin/y", "dev/console"]);
    expect(entries[0]?.mode).toBe(0o040755);
    expect(entries[1]?.mode).toBe(0o100755);
    expect(entries[1]?.data.toString()).toBe("hello");
    expect(entries[2]?.mode).toBe(0o120777);
    expect(entries[2]?.data.toString()).toBe("x");
    expect(entries[3]?.mode).toBe(0o020600);
    expect(entries[3]?.rdev).toEqual([5, 1]);
    expect(cpioNewc([{ name: "a", type: "file", data: "1" }])).toEqual(cpioNewc([{ name: "a", type: "file", data: "1" }]));
  });

  it("holds busybox, /init and the capture script", () => {
    const gz = buildInitramfs({ busybox: Buffer.from("BUSYBOX"), captureScript: "#!/bin/sh\necho capture\n" });
    const entries = readCpioNewc(gunzipSync(gz));
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get("init")?.data.toString()).toBe(INIT_SCRIPT);
    expect(byName.get("init")?.mode).toBe(0o100755);
    expect(byName.get("bin/busybox")?.data.toString()).toBe("BUSYBOX");
    expect(byName.get("bin/sh")?.data.toString()).toBe("busybox");
    expect(byName.get("capture.sh")?.data.toString()).toContain("echo capture");
    expect(byName.get("dev/console")?.rdev).toEqual([5, 1]);
    expect(INIT_SCRIPT).toContain("sh /capture.sh -o /tmp/capture.tar.gz");
    expect(INIT_SCRIPT).toContain("poweroff -f");
  });
});

describe("parseSerialCapture", () => {
  const payload = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(100, 7)]);
  const b64 = payload.toString("base64").replace(/(.{76})/g, "$1\n");
  const good = (rc = "0", bytes = payload.length) =>
    `[    1.0] noise\r\ncaptured 12 PCI functions\r\n\r\n${BEGIN_MARKER} rc=${rc} bytes=${bytes}\r\n${b64.replace(/\n/g, "\r\n")}\r\n${END_MARKER}\r\n[    4.2] reboot: Power down\r\n`;

  it("decodes the archive between the markers", () => {
    const r = parseSerialCapture(good());
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.capture).toEqual(payload);
  });

  it.each([
    ["nothing was sent", "[ 0.1] Kernel panic\n", /no capture/],
    ["the end marker is missing", good().split(END_MARKER)[0] ?? "", /cut short/],
    ["the script failed", good("2"), /exit status 2/],
    ["bytes were lost", good("0", payload.length + 3), /garbled/],
  ])("reports when %s", (_what, text, message) => {
    const r = parseSerialCapture(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});

describe("compareGroups", () => {
  const a = new Map([
    [0, ["0000:00:00.0"]],
    [1, ["0000:00:02.0", "0000:01:00.0"]],
  ]);
  it("tells membership from numbering", () => {
    expect(compareGroups(a, a)).toEqual({ sameMembership: true, sameNumbers: true, differences: [] });
    const renumbered = new Map([
      [1, ["0000:00:00.0"]],
      [0, ["0000:00:02.0", "0000:01:00.0"]],
    ]);
    const r = compareGroups(a, renumbered);
    expect(r.sameMembership).toBe(true);
    expect(r.sameNumbers).toBe(false);
    const split = new Map([
      [0, ["0000:00:00.0"]],
      [1, ["0000:00:02.0"]],
      [2, ["0000:01:00.0"]],
    ]);
    expect(compareGroups(a, split).sameMembership).toBe(false);
    expect(compareGroups(a, split).differences[0]).toMatch(/only in expected: group 1/);
  });
});

describe.skipIf(!haveOracle)("recorded oracle cases (../shared/oracle-cases)", () => {
  const files = haveOracle ? readdirSync(ORACLE).filter((f) => f.endsWith(".topology.json")) : [];

  it("are all accepted by validateTopology, and the BDF model matches every capture", () => {
    expect(files.length).toBeGreaterThan(100);
    for (const f of files) {
      const t = JSON.parse(readFileSync(join(ORACLE, f), "utf8")) as Topology;
      expect(validateTopology(t), f).toEqual([]);
      const capture = readCapture(join(ORACLE, `${t.name}.sysfs.tar.gz`));
      expect(capture.devices, f).toEqual(expectedGuestBdfs(t));
      expect(capture.cmdline, f).toBe(kernelCmdline(t));
      expect(capture.groups.size, f).toBeGreaterThan(0);
    }
  });
});

describe("run.mjs (no boot)", () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [join(HERE, "run.mjs"), ...args], { encoding: "utf8", timeout: 30_000 });

  it("prints topologies and QEMU command lines with --dry-run", () => {
    const r = run("--seed", "5", "--count", "2", "--iommu", "amd", "--dry-run");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("# gen-5-amd (seed 5)");
    expect(r.stdout).toContain("# gen-6-amd (seed 6)");
    expect(r.stdout).toMatch(/qemu-system-x86_64 -M q35 .* -device amd-iommu -device /);
  });

  it("uses seeds.txt by default and says when it is too short", () => {
    const r = run("--count", "1", "--dry-run");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`# gen-${readSeeds()[0]} (seed ${readSeeds()[0]})`);
    const all = run("--dry-run");
    expect(all.stdout.match(/^# gen-/gm)).toHaveLength(readSeeds().length);
    const long = run("--count", "23", "--dry-run");
    expect(long.status).toBe(2);
    expect(long.stderr).toMatch(/seeds.txt has 22 seeds/);
  });

  it("rejects bad options with exit status 2", () => {
    for (const args of [["--bogus"], ["--iommu", "arm"], ["--seed", "1", "--random"], ["--count", "x"], ["--kernel", "5.10"]]) {
      const r = run(...args, "--dry-run");
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^test:kernel: /);
    }
  });
});

describe("boot helpers", () => {
  /** A minimal ELF64 with one PT_NOTE holding one note. */
  function elfWithNote(name: string, type: number): Buffer {
    const nameBytes = Buffer.from(`${name}\0`, "latin1");
    const namePadded = Buffer.concat([nameBytes, Buffer.alloc((4 - (nameBytes.length % 4)) % 4)]);
    const note = Buffer.concat([Buffer.alloc(12), namePadded, Buffer.alloc(8)]);
    note.writeUInt32LE(nameBytes.length, 0);
    note.writeUInt32LE(8, 4);
    note.writeUInt32LE(type, 8);
    const elf = Buffer.alloc(120);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(elf, 0);
    elf.writeBigUInt64LE(64n, 0x20); // e_phoff
    elf.writeUInt16LE(56, 0x36); // e_phentsize
    elf.writeUInt16LE(1, 0x38); // e_phnum
    elf.writeUInt32LE(4, 64); // p_type PT_NOTE
    elf.writeBigUInt64LE(120n, 64 + 8); // p_offset
    elf.writeBigUInt64LE(BigInt(note.length), 64 + 32); // p_filesz
    return Buffer.concat([elf, note]);
  }

  it("recognises the PVH entry note", () => {
    expect(hasPvhNote(elfWithNote("Xen", 18))).toBe(true);
    expect(hasPvhNote(elfWithNote("Xen", 17))).toBe(false);
    expect(hasPvhNote(elfWithNote("Linux", 18))).toBe(false);
    expect(hasPvhNote(Buffer.from("not an elf at all, not an elf at all, not an elf at all, not an elf"))).toBe(false);
  });

  it("quotes QEMU command lines for sh", () => {
    expect(shellQuote(["qemu", "-append", "a b;c", "romfile=", "it's"])).toBe(`qemu -append 'a b;c' romfile= 'it'\\''s'`);
  });

  /** a minimal bzImage: setup header, then `payload` (protected-mode code is the payload alone) */
  function bzImageWith(payload: Buffer): Buffer {
    const setup = Buffer.alloc(2 * 512);
    setup[0x1f1] = 1; // setup_sects: the protected-mode part starts at (1 + 1) * 512
    setup.writeUInt32LE(0x53726448, 0x202); // "HdrS"
    setup.writeUInt32LE(0, 0x248); // payload_offset
    setup.writeUInt32LE(payload.length, 0x24c); // payload_length
    return Buffer.concat([setup, payload]);
  }
  const haveTool = (tool: string) => spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0;

  it("recognises every payload compression by its magic", () => {
    expect(payloadFormat(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]))).toBe("gzip");
    expect(payloadFormat(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe("xz");
    expect(payloadFormat(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x88]))).toBe("zstd");
    expect(payloadFormat(Buffer.from([0x02, 0x21, 0x4c, 0x18, 0, 0]))).toBe("lz4");
    expect(payloadFormat(Buffer.from("BZh91AY"))).toBe("bzip2");
    expect(payloadFormat(Buffer.from("ELF..."))).toBeNull();
  });

  for (const [tool, args] of [
    ["xz", ["-c", "--check=crc32"]],
    ["zstd", ["-c", "-q"]],
  ] as const) {
    it.skipIf(!haveTool(tool))(`reads a ${tool} payload followed by the kernel's 4-byte size trailer`, () => {
      const elf = elfWithNote("Xen", 18);
      const packed = spawnSync(tool, args, { input: elf }).stdout;
      const size = Buffer.alloc(4);
      size.writeUInt32LE(elf.length, 0);
      const dir = mkdtempSync(join(tmpdir(), "oracle-bz-"));
      const image = join(dir, "vmlinuz-test");
      writeFileSync(image, bzImageWith(Buffer.concat([packed, size])));
      expect(extractVmlinux(image)?.equals(elf)).toBe(true);
      rmSync(dir, { recursive: true, force: true });
    });
  }

  it("picks the kernel of the series asked for, not the newest", () => {
    const dir = mkdtempSync(join(tmpdir(), "oracle-boot-"));
    for (const f of ["vmlinuz-6.1.0-57-amd64", "vmlinuz-6.1.0-9-amd64", "vmlinuz-6.12.118+deb12-amd64", "vmlinuz-6.12.9+bpo-amd64", "config-6.1.0-57-amd64"]) {
      writeFileSync(join(dir, f), "");
    }
    expect(findKernel(dir, "6.1")).toBe(join(dir, "vmlinuz-6.1.0-57-amd64"));
    expect(findKernel(dir, "6.12")).toBe(join(dir, "vmlinuz-6.12.118+deb12-amd64"));
    expect(findKernel(dir, "6.6")).toBeNull();
    expect(findKernel(dir)).toBe(join(dir, "vmlinuz-6.12.118+deb12-amd64"));
    expect(kernelSeries("6.12.118+deb12-amd64")).toBe("6.12");
    expect(kernelSeries("6.1.0-57-amd64")).toBe("6.1");
    expect(kernelSeries("6.10")).toBe("6.10");
    expect(Object.keys(KERNEL_PACKAGES)).toEqual(["6.1", "6.12"]);
    rmSync(dir, { recursive: true, force: true });
  });

  // every Debian image installed: 6.1's payload is XZ, 6.12's zstd
  const images = existsSync("/boot") ? readdirSync("/boot").filter((f) => /^vmlinuz-\d/.test(f)) : [];
  for (const image of images) {
    it(`extracts a bootable vmlinux from Debian's bzImage ${image}`, () => {
      const elf = extractVmlinux(join("/boot", image));
      expect(elf).not.toBeNull();
      expect(elf?.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    });
  }
});
