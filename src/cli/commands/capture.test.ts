import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readSource } from "../sysfs/archive.js";
import { collectSysfs } from "../sysfs/collect.js";
import { FAKE_HOSTNAME, FAKE_SERIAL, makeFakeSysfs } from "../sysfs/fake-sysfs.js";
import { capture, defaultCaptureName } from "./capture.js";

let tmp: string;
let lines: string[];
const log = (line: string): void => void lines.push(line);

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "iommu-atlas-capture-"));
  lines = [];
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("capture", () => {
  it("writes the archive and prints one summary line", async () => {
    const root = path.join(tmp, "root");
    await makeFakeSysfs(root);
    const output = path.join(tmp, "out.tar.gz");

    expect(await capture({ root, output, log })).toBe(0);
    expect(lines).toEqual([`captured 4 PCI functions, 3 IOMMU groups, ACPI DMAR into ${output}`]);
    expect(await readSource(output)).toEqual((await collectSysfs(root, { readRegisters: true })).tree);
  });

  it("redacts serial numbers and never records the host name", async () => {
    const root = path.join(tmp, "root");
    await makeFakeSysfs(root);
    const output = path.join(tmp, "out.tar.gz");

    expect(await capture({ root, output, redact: true, log })).toBe(0);
    expect(lines.slice(1)).toEqual(["note: redacted: device serial number zeroed on 2 functions"]);
    const tar = gunzipSync(await readFile(output));
    expect(tar.includes(FAKE_HOSTNAME)).toBe(false);
    expect(tar.includes("hostname")).toBe(false);
    expect(tar.includes(Buffer.from(FAKE_SERIAL))).toBe(false);
  });

  it("records the host name only with hostname: true", async () => {
    const root = path.join(tmp, "root");
    await makeFakeSysfs(root);
    const output = path.join(tmp, "named.tar.gz");
    expect(await capture({ root, output, hostname: true, log })).toBe(0);
    const tree = await readSource(output);
    expect(tree.get("proc/sys/kernel/hostname")).toEqual({ kind: "file", data: new TextEncoder().encode(`${FAKE_HOSTNAME}\n`) });
  });

  it("explains a capture made without root", async () => {
    const root = path.join(tmp, "root");
    await makeFakeSysfs(root, { unprivileged: true });
    expect(await capture({ root, output: path.join(tmp, "out.tar.gz"), log })).toBe(0);
    expect(lines).toContain(
      "note: not root: config space beyond 64 bytes is unreadable (4 functions); run as root for capabilities (ACS, PCIe)",
    );
  });

  it("returns 2 and writes nothing when there is no sys/bus/pci", async () => {
    await mkdir(path.join(tmp, "root", "sys"), { recursive: true });
    const output = path.join(tmp, "out.tar.gz");
    expect(await capture({ root: path.join(tmp, "root"), output, log, error: log })).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^nothing captured: no PCI functions under .*sys\/bus\/pci\/devices; pass --root/);
    expect(await readdir(tmp)).toEqual(["root"]);
  });

  it("returns 1 with a one-line message when the output cannot be written", async () => {
    const root = path.join(tmp, "root");
    await makeFakeSysfs(root);
    const output = path.join(tmp, "missing", "out.tar.gz");
    expect(await capture({ root, output, log, error: log })).toBe(1);
    expect(lines).toEqual([`${output}: cannot write the capture: no such file or directory (ENOENT)`]);
  });

  it("-o - writes the archive to stdout, the summary to the other sink, and refuses a terminal", async () => {
    const root = path.join(tmp, "root");
    await makeFakeSysfs(root);
    let written: Uint8Array | undefined;
    const writeStdout = async (bytes: Uint8Array): Promise<void> => {
      written = bytes;
    };
    expect(await capture({ root, output: "-", log, writeStdout, stdoutIsTTY: false })).toBe(0);
    expect(lines).toEqual(["captured 4 PCI functions, 3 IOMMU groups, ACPI DMAR into stdout"]);
    const file = path.join(tmp, "from-stdout.tar.gz");
    await writeFile(file, written!);
    const tree = await readSource(file);
    expect(tree.get("sys/bus/pci/devices/0000:00:00.0")?.kind).toBe("symlink");
    expect(await readdir(tmp)).toEqual(["from-stdout.tar.gz", "root"]);
    await expect(capture({ root, output: "-", log, writeStdout, stdoutIsTTY: true })).rejects.toThrow(/standard output is a terminal/);
  });

  it("a failure is one line on the error sink, not the summary's", async () => {
    await mkdir(path.join(tmp, "empty", "sys"), { recursive: true });
    const errors: string[] = [];
    expect(await capture({ root: path.join(tmp, "empty"), output: path.join(tmp, "x.tar.gz"), log, error: (l) => errors.push(l) })).toBe(2);
    expect(lines).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it("names the default output after the UTC time", () => {
    expect(defaultCaptureName(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)))).toBe(
      "iommu-atlas-capture-20260102T030405Z.tar.gz",
    );
  });
});
