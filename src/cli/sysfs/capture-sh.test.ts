import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { predict } from "../../core/iommu/predict.js";
import { snapshotFromSysfs } from "../../core/sources/from-sysfs.js";
import { readSource, writeArchive } from "./archive.js";
import { collectSysfs } from "./collect.js";
import { makeFakeSysfs, treeListing } from "./fake-sysfs.js";

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
async function fakeRoot(opts: Parameters<typeof makeFakeSysfs>[1] = {}): Promise<string> {
  const root = path.join(tmp, `root${++cases}`);
  await makeFakeSysfs(root, opts);
  return root;
}

describe.skipIf(!busybox)(`scripts/capture.sh under busybox sh${busybox ? "" : " (skipped: busybox is not installed)"}`, () => {
  it("writes the same tree as collectSysfs: paths, bytes and link targets", async () => {
    const root = await fakeRoot({ deep: true });
    const out = path.join(tmp, "sh.tar.gz");
    const r = runScript(["--root", root, "-o", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^captured 23 PCI functions, 4 IOMMU groups, ACPI DMAR into /);

    const fromSh = await readSource(out);
    const fromTs = (await collectSysfs(root)).tree;
    expect(treeListing(fromSh)).toEqual(treeListing(fromTs));
  });

  it("--redact zeroes serial numbers the same way redact does", async () => {
    const root = await fakeRoot({ deep: true });
    const out = path.join(tmp, "redacted.tar.gz");
    const r = runScript(["--redact", `--root=${root}/`, `-o${out}`]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("device serial number zeroed on 21 functions");

    const fromTs = await collectSysfs(root, { redact: true });
    expect(fromTs.notes.filter((n) => n.code === "dsn-zeroed")).toHaveLength(21);
    expect(treeListing(await readSource(out))).toEqual(treeListing(fromTs.tree));
  });

  it("records 64-byte config reads and says why", async () => {
    const root = await fakeRoot({ unprivileged: true });
    const out = path.join(tmp, "user.tar.gz");
    const r = runScript(["--root", root, "-o", out, "--redact"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("config space shorter than 256 bytes on 4 functions");
    expect(treeListing(await readSource(out))).toEqual(treeListing((await collectSysfs(root)).tree));
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

  it("rejects unknown options with the usage line", () => {
    const r = runScript(["--bogus"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("usage: capture.sh [-o FILE.tar.gz] [--redact] [--root DIR]");
  });

  it.skipIf(!dash)(`gives the same tree under dash, a strict POSIX sh${dash ? "" : " (skipped: dash is not installed)"}`, async () => {
    const root = await fakeRoot({ deep: true });
    const out = path.join(tmp, "dash.tar.gz");
    const r = runScript(["--redact", "--root", root, "-o", out], [dash as string]);
    expect(r.status).toBe(0);
    expect(treeListing(await readSource(out))).toEqual(treeListing((await collectSysfs(root, { redact: true })).tree));
  });

  it("excerpts a Switchtec NT endpoint's registers byte for byte like collectSysfs, and the archive predicts its aliases", async () => {
    const root = await fakeRoot({ switchtec: "registers" });
    const out = path.join(tmp, "ntb.tar.gz");
    const r = runScript(["--root", root, "-o", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const fromSh = await readSource(out);
    const fromTs = (await collectSysfs(root)).tree;
    expect(treeListing(fromSh).filter((l) => l.includes("resource0"))).toHaveLength(1);
    expect(treeListing(fromSh)).toEqual(treeListing(fromTs));
    const p = predict(snapshotFromSysfs(fromSh));
    expect(p.ntb.get("0000:03:00.1")?.status).toBe("from-registers");
    expect(p.props("0000:03:00.1").aliasDevfns).toEqual([0x80, 0x81, 0x88]);
  });

  it("keeps short reads at the end of resource0 the same way", async () => {
    const root = await fakeRoot({ switchtec: "short" });
    const out = path.join(tmp, "ntb-short.tar.gz");
    expect(runScript(["--root", root, "-o", out]).status).toBe(0);
    expect(treeListing(await readSource(out))).toEqual(treeListing((await collectSysfs(root)).tree));
  });

  it("an unreadable resource0 gives a warning and no excerpt, like collectSysfs", async () => {
    const root = await fakeRoot({ switchtec: "unreadable" });
    const out = path.join(tmp, "ntb-unreadable.tar.gz");
    const r = runScript(["--root", root, "-o", out]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("Switchtec NT registers unreadable, skipped: sys/devices/pci0000:00/0000:00:1d.0/0000:03:00.1/resource0");
    expect(r.stderr).toContain("note: Switchtec NT registers (resource0) unreadable on 1 function; proxy aliases stay unknown");
    const fromSh = await readSource(out);
    expect(treeListing(fromSh).some((l) => l.includes("resource0"))).toBe(false);
    expect(treeListing(fromSh)).toEqual(treeListing((await collectSysfs(root)).tree));
  });

  it.skipIf(!dash)(`excerpts the same bytes under dash${dash ? "" : " (skipped: dash is not installed)"}`, async () => {
    const root = await fakeRoot({ switchtec: "registers" });
    const out = path.join(tmp, "ntb-dash.tar.gz");
    expect(runScript(["--root", root, "-o", out], [dash as string]).status).toBe(0);
    expect(treeListing(await readSource(out))).toEqual(treeListing((await collectSysfs(root)).tree));
  });

  it("busybox tar extracts writeArchive output back to the same tree", async () => {
    const root = await fakeRoot({ deep: true });
    const tree = (await collectSysfs(root)).tree;
    const file = path.join(tmp, "ts.tar.gz");
    await writeArchive(tree, file);
    const dir = path.join(tmp, "extracted");
    await mkdir(dir);
    const r = spawnSync(busybox as string, ["tar", "-xzf", file, "-C", dir], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(treeListing(await readSource(dir))).toEqual(treeListing(tree));
  });
});
