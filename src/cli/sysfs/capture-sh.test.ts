import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { mkdir, mkdtemp, open, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { predict } from "../../core/iommu/predict.js";
import { snapshotFromSysfs } from "../../core/sources/from-sysfs.js";
import { readSource, writeArchive } from "./archive.js";
import { collectSysfs } from "./collect.js";
import { makeFakeSysfs, treeListing, type FakeSysfsOptions } from "./fake-sysfs.js";
import { memBar0 } from "./ntb-registers.js";

const script = path.resolve("scripts/capture.sh");

function which(cmd: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const busybox = which("busybox");
const dash = which("dash");

let tmp: string;
/** a PATH holding nothing but busybox applets, like a minimal initramfs */
let appletPath: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "iommu-atlas-capture-sh-"));
  appletPath = path.join(tmp, "bin");
  await mkdir(appletPath);
  if (!busybox) return;
  const list = spawnSync(busybox, ["--list"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  for (const applet of list) await symlink(busybox, path.join(appletPath, applet));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** runs capture.sh under busybox sh (or `shell`), with only busybox applets on PATH */
function runScript(args: string[], shell: string[] = [busybox as string, "sh"]): { status: number | null; stdout: string; stderr: string } {
  const [cmd, ...pre] = shell as [string, ...string[]];
  const r = spawnSync(cmd, [...pre, script, ...args], {
    cwd: tmp,
    encoding: "utf8",
    env: { PATH: appletPath, TMPDIR: tmp },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let cases = 0;
async function fakeRoot(opts: FakeSysfsOptions = {}): Promise<string> {
  const root = path.join(tmp, `root${++cases}`);
  await makeFakeSysfs(root, opts);
  return root;
}

describe.skipIf(!busybox)(`scripts/capture.sh under busybox sh${busybox ? "" : " (skipped: busybox is not installed)"}`, () => {
  it("writes the same tree as collectSysfs: paths, bytes and link targets", async () => {
    const root = await fakeRoot({ deep: true, platform: true });
    const out = path.join(tmp, "sh.tar.gz");
    const r = runScript(["--root", root, "-o", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^captured 23 PCI functions, 4 IOMMU groups, ACPI DMAR into /);

    const fromSh = await readSource(out);
    const fromTs = (await collectSysfs(root, { readRegisters: true })).tree;
    expect(treeListing(fromSh)).toEqual(treeListing(fromTs));
  });

  it("records a device-tree arm64 machine like collectSysfs: devicetree compatible, SMMU instance link, arch, no ACPI table", async () => {
    const root = await fakeRoot({ deviceTree: true });
    const out = path.join(tmp, "dt.tar.gz");
    const r = runScript(["--root", root, "-o", out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^captured 4 PCI functions, 3 IOMMU groups, no IOMMU ACPI table, device tree into /);
    const fromSh = await readSource(out);
    const fromTs = (await collectSysfs(root, { readRegisters: true })).tree;
    expect(treeListing(fromSh)).toEqual(treeListing(fromTs));
    expect(treeListing(fromSh)).toContain("sys/class/iommu/smmu3.0x0000000009050000 -> ../../devices/platform/9050000.smmuv3/iommu/smmu3.0x0000000009050000");
    const snap = snapshotFromSysfs(fromSh);
    expect(snap.platform).toMatchObject({ arch: "aarch64", firmware: "devicetree", iommus: ["smmu3.0x0000000009050000"], modules: ["e1000e", "nvme"] });
    expect(snap.platform?.driverModules).toEqual(new Map([["e1000e", "e1000e"]]));
  });

  it("--hostname records the host name, and the DMI identity, in the same tree as collectSysfs", async () => {
    const root = await fakeRoot();
    const out = path.join(tmp, "named.tar.gz");
    const r = runScript(["--hostname", "--root", root, "-o", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const fromSh = treeListing(await readSource(out));
    expect(fromSh.filter((l) => l.startsWith("proc/sys/kernel/hostname file "))).toHaveLength(1);
    expect(fromSh.filter((l) => l.startsWith("sys/class/dmi/id/") && l.includes(" file "))).toHaveLength(7);
    expect(fromSh).toEqual(treeListing((await collectSysfs(root, { readRegisters: true, hostname: true })).tree));
  });

  it("--redact zeroes serial numbers the same way redact does", async () => {
    const root = await fakeRoot({ deep: true });
    const out = path.join(tmp, "redacted.tar.gz");
    const r = runScript(["--redact", `--root=${root}/`, `-o${out}`]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("device serial number zeroed on 21 functions");

    const fromTs = await collectSysfs(root, { redact: true, readRegisters: true });
    expect(fromTs.notes.filter((n) => n.code === "dsn-zeroed")).toHaveLength(21);
    expect(treeListing(await readSource(out))).toEqual(treeListing(fromTs.tree));
  });

  it("records 64-byte config reads and says why", async () => {
    const root = await fakeRoot({ unprivileged: true });
    const out = path.join(tmp, "user.tar.gz");
    const r = runScript(["--root", root, "-o", out, "--redact"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("config space shorter than 256 bytes on 4 functions");
    expect(treeListing(await readSource(out))).toEqual(treeListing((await collectSysfs(root, { readRegisters: true })).tree));
  });

  it("exits 2 without sys/bus/pci and 1 when the output cannot be written, leaving no file", async () => {
    const empty = path.join(tmp, "empty");
    await mkdir(path.join(empty, "sys"), { recursive: true });
    const none = runScript(["--root", empty, "-o", path.join(tmp, "none.tar.gz")]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/nothing captured: no .*sys\/bus\/pci\/devices/);

    const root = await fakeRoot();
    const before = (await readdir(tmp)).sort();
    const bad = runScript(["--root", root, "-o", path.join(tmp, "no-such-dir", "x.tar.gz")]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/cannot write the capture/);
    expect((await readdir(tmp)).sort()).toEqual(before); // staging folder removed too
  });

  it("-o - writes the archive to stdout and the summary to stderr", async () => {
    const root = await fakeRoot();
    const r = spawnSync(busybox as string, ["sh", script, "--root", root, "-o", "-"], { cwd: tmp, env: { PATH: appletPath, TMPDIR: tmp } });
    expect(r.status).toBe(0);
    expect(r.stderr.toString()).toMatch(/^captured 4 PCI functions, .* into stdout$/m);
    const file = path.join(tmp, "from-stdout.tar.gz");
    await writeFile(file, r.stdout);
    expect(treeListing(await readSource(file))).toEqual(treeListing((await collectSysfs(root, { readRegisters: true })).tree));
    expect(await readdir(tmp)).not.toContain("-");
  });

  it("rejects unknown options with the usage line", () => {
    const r = runScript(["--bogus"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("usage: capture.sh [-o FILE.tar.gz] [--redact] [--hostname] [--root DIR]");
  });

  it.skipIf(!dash)(`gives the same tree under dash, a strict POSIX sh${dash ? "" : " (skipped: dash is not installed)"}`, async () => {
    const root = await fakeRoot({ deep: true });
    const out = path.join(tmp, "dash.tar.gz");
    const r = runScript(["--redact", "--root", root, "-o", out], [dash as string]);
    expect(r.status).toBe(0);
    expect(treeListing(await readSource(out))).toEqual(treeListing((await collectSysfs(root, { redact: true, readRegisters: true })).tree));
  });

  it("excerpts a Switchtec NT endpoint's registers byte for byte like collectSysfs, and the archive predicts its aliases", async () => {
    const root = await fakeRoot({ switchtec: "registers" });
    const out = path.join(tmp, "ntb.tar.gz");
    const r = runScript(["--root", root, "-o", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const fromSh = await readSource(out);
    const fromTs = (await collectSysfs(root, { readRegisters: true })).tree;
    expect(treeListing(fromSh).filter((l) => l.includes("resource0"))).toHaveLength(1);
    expect(treeListing(fromSh)).toEqual(treeListing(fromTs));
    const p = predict(snapshotFromSysfs(fromSh));
    expect(p.ntb.get("0000:03:00.1")?.status).toBe("from-registers");
    expect(p.props("0000:03:00.1").aliasDevfns).toEqual([0x80, 0x81, 0x88]);
  });

  it("busybox tar extracts writeArchive output back to the same tree", async () => {
    const root = await fakeRoot({ deep: true });
    const tree = (await collectSysfs(root, { readRegisters: true })).tree;
    const file = path.join(tmp, "ts.tar.gz");
    await writeArchive(tree, file);
    const dir = path.join(tmp, "extracted");
    await mkdir(dir);
    const r = spawnSync(busybox as string, ["tar", "-xzf", file, "-C", dir], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(treeListing(await readSource(dir))).toEqual(treeListing(tree));
  });
});

const NT_REL = "sys/devices/pci0000:00/0000:00:1d.0/0000:03:00.1";
const shells: Array<[string, string[]]> = [
  ["busybox sh", [busybox as string, "sh"]],
  ["dash", [dash as string]],
];

interface NtScenario {
  readonly name: string;
  readonly opts: FakeSysfsOptions;
  /** resource0.excerpt in the archive */
  readonly excerpt: boolean;
  /** what stderr holds; none: empty */
  readonly stderr?: readonly string[];
  /** skip reason, when the scenario cannot run here */
  readonly skip?: string;
  /** changes to the fake tree */
  readonly patch?: (root: string) => Promise<void>;
}

/** can the temp folder hold a file with a hole cheaply? (a dev/mem at a high BAR address) */
async function holesAreCheap(dir: string): Promise<boolean> {
  const file = path.join(dir, "hole-probe");
  const fh = await open(file, "w");
  try {
    await fh.write(new Uint8Array(1), 0, 1, 64 * 1024 * 1024);
    return (await fh.stat()).blocks * 512 < 1024 * 1024;
  } finally {
    await fh.close();
    await rm(file);
  }
}
const cheapHoles = await holesAreCheap(tmpdir());

const NT_SCENARIOS: readonly NtScenario[] = [
  { name: "resource0 readable (dev/mem holds other bytes)", opts: { switchtec: "registers", devMem: "all-ones" }, excerpt: true },
  { name: "resource0 ends inside a table", opts: { switchtec: "short" }, excerpt: true },
  {
    // od without -v prints the second and third zero lines as "*"
    name: "ntb_info with equal 16-byte lines",
    opts: { switchtec: "registers" },
    excerpt: true,
    patch: async (root) => {
      const file = path.join(root, NT_REL, "resource0");
      const bar = new Uint8Array(await readFile(file));
      bar.fill(0, 0x10010, 0x10040);
      await writeFile(file, bar);
    },
  },
  { name: "resource0 unreadable, dev/mem readable", opts: { switchtec: "unreadable", devMem: "registers" }, excerpt: true },
  {
    name: "resource0 unreadable, dev/mem readable, BAR0 above 4 GiB",
    opts: { switchtec: "unreadable", devMem: "registers", bar0Base: 0x4_1000_0000 },
    excerpt: true,
    ...(!cheapHoles && { skip: "the temp folder's file system stores holes" }),
  },
  {
    name: "resource0 unreadable, dev/mem read up to BAR0's end only",
    opts: { switchtec: "unreadable", devMem: "registers", bar0Size: 0x18400 },
    excerpt: true,
  },
  {
    name: "both unreadable: no dev/mem",
    opts: { switchtec: "unreadable" },
    excerpt: false,
    stderr: [
      `Switchtec NT registers unreadable, skipped: ${NT_REL} (resource0: Is a directory; /dev/mem: No such file or directory)`,
      "note: Switchtec NT registers unreadable on 1 function (resource0 and /dev/mem); proxy aliases stay unknown; run as root; " +
        "if /dev/mem is refused (Operation not permitted), boot once with iomem=relaxed; else declare the partition table in a design file",
    ],
  },
  {
    name: "both unreadable: dev/mem a folder",
    opts: { switchtec: "unreadable", devMem: "unreadable" },
    excerpt: false,
    stderr: [`Switchtec NT registers unreadable, skipped: ${NT_REL} (resource0: Is a directory; /dev/mem: Is a directory)`],
  },
  {
    name: "all ones from dev/mem",
    opts: { switchtec: "unreadable", devMem: "all-ones" },
    excerpt: false,
    stderr: [
      `Switchtec NT registers read as all ones, skipped: ${NT_REL} (/dev/mem)`,
      "note: Switchtec NT registers read as all ones on 1 function; proxy aliases stay unknown; the function does not decode its BAR " +
        "(memory space off, or powered down): bind the switchtec driver or enable it (echo 1 > /sys/bus/pci/devices/<bdf>/enable), then capture again",
    ],
  },
  {
    name: "all ones from resource0 (no second try at dev/mem)",
    opts: { switchtec: "all-ones", devMem: "registers" },
    excerpt: false,
    stderr: [`Switchtec NT registers read as all ones, skipped: ${NT_REL} (resource0)`],
  },
];

describe.skipIf(!busybox)(`capture.sh Switchtec NT registers: the same archive as collectSysfs${busybox ? "" : " (skipped: busybox is not installed)"}`, () => {
  for (const [shellName, shell] of shells) {
    const absent = shellName === "dash" && !dash ? "dash is not installed" : undefined;
    describe.skipIf(absent !== undefined)(`under ${shellName}${absent ? ` (skipped: ${absent})` : ""}`, () => {
      for (const sc of NT_SCENARIOS) {
        it.skipIf(sc.skip !== undefined)(`${sc.name}${sc.skip ? ` (skipped: ${sc.skip})` : ""}`, async () => {
          const root = await fakeRoot(sc.opts);
          await sc.patch?.(root);
          const out = path.join(tmp, `ntb-${cases}.tar.gz`);
          const r = runScript(["--root", root, "-o", out], shell);
          expect(r.status).toBe(0);
          if (sc.stderr === undefined) expect(r.stderr).toBe("");
          for (const text of sc.stderr ?? []) expect(r.stderr).toContain(text);

          const fromSh = treeListing(await readSource(out));
          expect(fromSh.some((l) => l.startsWith(`${NT_REL}/resource0.excerpt file `))).toBe(sc.excerpt);
          expect(fromSh.some((l) => l.startsWith("dev"))).toBe(false);
          expect(fromSh).toEqual(treeListing((await collectSysfs(root, { readRegisters: true })).tree));
        });
      }
    });
  }
});

describe.skipIf(!busybox)(`capture.sh mem_bar0 and memBar0 read resource lines alike${busybox ? "" : " (skipped: busybox is not installed)"}`, () => {
  const hex16 = (n: bigint): string => n.toString(16).padStart(16, "0").slice(-16);
  const addr = fc.oneof(
    { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: (1n << 50n) - 1n }).map((a) => a * 4n) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
    { weight: 1, arbitrary: fc.constantFrom(0n, 0xfb00_0000n, 0xf_ffff_fffen, (1n << 52n) - 4n, 1n << 52n, (1n << 63n) + 0x1000n) },
  );
  const size = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 2, max: 40 }).map((b) => 1n << BigInt(b)) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 1n << 40n }) },
  );
  const flags = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(0x40200n, 0x14220cn, 0x200n, 0x8000_0200n) },
    { weight: 2, arbitrary: fc.constantFrom(0x40101n, 0x20040200n, 0x10040200n, 0x0n, 0x1_0004_0200n) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
  );
  const kernelLine = fc.tuple(addr, size, flags).map(([s, n, f]) => `0x${hex16(s)} 0x${hex16((s + n - 1n) & ((1n << 64n) - 1n))} 0x${hex16(f)}`);
  const anyLine = fc.tuple(addr, addr, flags).map(([s, e, f]) => `0x${hex16(s)} 0x${hex16(e)} 0x${hex16(f)}`);
  const mangled = fc.tuple(kernelLine, fc.constantFrom("upper", "two-spaces", "tab", "short", "extra", "blank-first", "no-prefix")).map(([l, how]) => {
    switch (how) {
      case "upper":
        return l.toUpperCase().replace(/0X/g, "0x");
      case "two-spaces":
        return l.replace(" ", "  ");
      case "tab":
        return l.replace(" ", "\t");
      case "short":
        return l.replace("0x0", "0x");
      case "extra":
        return `${l} 0x0`;
      case "blank-first":
        return `\n${l}`;
      default:
        return l.replace("0x", "");
    }
  });
  const texts = fc.sample(
    fc.oneof({ weight: 3, arbitrary: kernelLine }, { weight: 1, arbitrary: anyLine }, { weight: 1, arbitrary: mangled }).map((l) => `${l}\n0x${"0".repeat(16)} 0x${"0".repeat(16)} 0x${"0".repeat(16)}\n`),
    { numRuns: 400, seed: 20240601 },
  );

  /** mem_bar0 and what it needs, cut out of the script */
  async function harness(dir: string): Promise<string> {
    const text = await readFile(script, "utf8");
    const fn = /^mem_bar0\(\) \{\n[\s\S]*?\n\}\n/m.exec(text)?.[0];
    const probe = /^arith64=0\n.*\n/m.exec(text)?.[0];
    if (!fn || !probe) throw new Error("mem_bar0 or the arith64 probe not found in capture.sh");
    const file = path.join(dir, "harness.sh");
    await writeFile(
      file,
      `${probe}${fn}i=0\nwhile [ -f "$1/$i" ]; do\n  bar_base=; bar_size=\n  mem_bar0 "$1/$i"\n  echo "$i $? $bar_base $bar_size"\n  i=$((i + 1))\ndone\n`,
    );
    return file;
  }

  for (const [shellName, shell] of shells) {
    const absent = shellName === "dash" && !dash ? "dash is not installed" : undefined;
    it.skipIf(absent !== undefined)(`under ${shellName}${absent ? ` (skipped: ${absent})` : ""}`, async () => {
      const dir = path.join(tmp, `resource-lines-${shellName.replace(" ", "-")}`);
      await mkdir(dir);
      for (const [i, t] of texts.entries()) await writeFile(path.join(dir, String(i)), t);
      const [cmd, ...pre] = shell as [string, ...string[]];
      const r = spawnSync(cmd, [...pre, await harness(tmp), dir], { encoding: "utf8", env: { PATH: appletPath } });
      expect(r.stderr).toBe("");
      const got = r.stdout.split("\n").slice(0, -1);
      expect(got).toHaveLength(texts.length);
      const expected = texts.map((t, i) => {
        const bar = memBar0(t);
        return bar ? `${i} 0 ${bar.start} ${bar.size}` : `${i} 1  `;
      });
      expect(got).toEqual(expected);
      // the sample is not trivial: both outcomes occur
      expect(expected.filter((l) => / 0 \d/.test(l)).length).toBeGreaterThan(40);
      expect(expected.filter((l) => / 1 {2}$/.test(l)).length).toBeGreaterThan(40);
    });
  }
});
