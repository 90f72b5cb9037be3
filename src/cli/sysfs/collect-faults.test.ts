/**
 * A sysfs that changes while it is read: functions removed and added
 * mid-capture, a file that turns unreadable, a symlink loop, a config file
 * shorter than its size claims. The capture records what it saw plus notes,
 * and what it records is an archive every command reads back.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, truncate, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dirname } from "../../core/fs/file-tree.js";
import { predict } from "../../core/iommu/predict.js";
import { snapshotFromSysfs } from "../../core/sources/from-sysfs.js";
import { capture } from "../commands/capture.js";
import { decodeArchive } from "./archive.js";
import { collectSysfs, type CollectOptions } from "./collect.js";
import { fakeConfig, makeFakeSysfs } from "./fake-sysfs.js";
import { describeNotes } from "./notes.js";

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "iommu-atlas-faults-"));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const ROOT_PORT = "sys/devices/pci0000:00/0000:00:1c.0";
const NIC = `${ROOT_PORT}/0000:01:00.0`;
const NIC_FN1 = `${ROOT_PORT}/0000:01:00.1`;

/** a hook that runs `change` once, the first time `rel` (and `phase`) is about to be read */
function when(rel: string, change: () => Promise<void>, phase: "open" | "read" = "open"): NonNullable<CollectOptions["beforeRead"]> {
  let done = false;
  return async (at, p) => {
    if (done || at !== rel || p !== phase) return;
    done = true;
    await change();
  };
}

/** what every capture must be: a consistent tree that reads back and predicts */
async function readsBack(root: string, opts: CollectOptions) {
  const { tree, notes } = await collectSysfs(root, opts);
  for (const key of tree.keys()) {
    const parent = dirname(key);
    if (parent !== "") expect(tree.get(parent), `parent of ${key}`).toEqual({ kind: "dir" });
  }
  const snapshot = snapshotFromSysfs(tree);
  expect(() => predict(snapshot)).not.toThrow();
  for (const line of describeNotes(notes)) expect(line).not.toMatch(/\n/);
  return { tree, notes, snapshot };
}

describe("capture of a sysfs that changes while it is read", () => {
  it("a function removed mid-capture is left out whole, with a note", async () => {
    await makeFakeSysfs(tmp);
    const gone = when(`${NIC_FN1}/class`, async () => {
      await rm(path.join(tmp, NIC_FN1), { recursive: true });
      await unlink(path.join(tmp, "sys/bus/pci/devices/0000:01:00.1"));
      await unlink(path.join(tmp, "sys/kernel/iommu_groups/2/devices/0000:01:00.1"));
    });
    const { tree, notes, snapshot } = await readsBack(tmp, { beforeRead: gone });
    expect([...tree.keys()].filter((k) => k.includes("0000:01:00.1"))).toEqual([]);
    expect(notes).toContainEqual({ code: "function-vanished", bdf: "0000:01:00.1" });
    expect([...snapshot.topology.functions.values()].map((f) => f.bdf).sort()).toEqual(["0000:00:00.0", "0000:00:1c.0", "0000:01:00.0"]);
    expect(describeNotes(notes).join("\n")).toMatch(/removed while the capture ran, left out: 0000:01:00.1/);
  });

  it("a function whose folder goes while its bus link stays is left out too", async () => {
    await makeFakeSysfs(tmp);
    const gone = when(`${NIC}/config`, () => rm(path.join(tmp, NIC), { recursive: true }));
    const { tree, notes } = await readsBack(tmp, { beforeRead: gone });
    expect(tree.has("sys/bus/pci/devices/0000:01:00.0")).toBe(false);
    expect(notes).toContainEqual({ code: "function-vanished", bdf: "0000:01:00.0" });
  });

  it("a function added mid-capture shows as a group member that was not captured", async () => {
    await makeFakeSysfs(tmp);
    const added = when(`${NIC}/config`, async () => {
      const dev = `${ROOT_PORT}/0000:01:00.2`;
      await mkdir(path.join(tmp, dev), { recursive: true });
      await writeFile(path.join(tmp, dev, "config"), fakeConfig(0x8086, 0x10ca, 0x020000));
      await symlink(`../../../devices/pci0000:00/0000:00:1c.0/0000:01:00.2`, path.join(tmp, "sys/bus/pci/devices/0000:01:00.2"));
      await symlink(`../../../../devices/pci0000:00/0000:00:1c.0/0000:01:00.2`, path.join(tmp, "sys/kernel/iommu_groups/2/devices/0000:01:00.2"));
    });
    const { tree, notes } = await readsBack(tmp, { beforeRead: added });
    expect(tree.has("sys/bus/pci/devices/0000:01:00.2")).toBe(false);
    expect(notes).toContainEqual({ code: "group-member-uncaptured", bdf: "0000:01:00.2", group: "2" });
    expect(describeNotes(notes).join("\n")).toMatch(/listed in IOMMU groups but not captured/);
  });

  it("a file that turns unreadable is skipped with its errno; the function stays", async () => {
    await makeFakeSysfs(tmp);
    // a folder where the file was: unreadable even for root (EISDIR), as a device that stops answering gives EIO
    const broken = when(`${NIC}/config`, async () => {
      await rm(path.join(tmp, NIC, "config"));
      await mkdir(path.join(tmp, NIC, "config"));
    });
    const { tree, notes, snapshot } = await readsBack(tmp, { beforeRead: broken });
    expect(notes).toContainEqual({ code: "unreadable", path: `${NIC}/config`, reason: "EISDIR" });
    expect(tree.has(`${NIC}/config`)).toBe(false);
    expect(tree.has(`${NIC}/vendor`)).toBe(true);
    expect([...snapshot.topology.functions.values()].some((f) => f.bdf === "0000:01:00.1")).toBe(true);
  });

  it("a symlink loop where a bus link was is noted (ELOOP), the rest captured", async () => {
    await makeFakeSysfs(tmp);
    const loop = when("sys/bus/pci/devices/0000:01:00.1", async () => {
      const link = path.join(tmp, "sys/bus/pci/devices/0000:01:00.1");
      await unlink(link);
      await symlink("loop-b", link);
      await symlink("0000:01:00.1", path.join(tmp, "sys/bus/pci/devices/loop-b"));
    });
    const { tree, notes } = await readsBack(tmp, { beforeRead: loop });
    expect(notes).toContainEqual({ code: "unreadable", path: "sys/bus/pci/devices/0000:01:00.1", reason: "ELOOP" });
    expect(tree.has("sys/bus/pci/devices/0000:01:00.0")).toBe(true);
  });

  it("a config file that reads shorter than its size claims is kept as read, with a note", async () => {
    await makeFakeSysfs(tmp);
    const shrink = when(`${NIC}/config`, () => truncate(path.join(tmp, NIC, "config"), 300), "read");
    const { tree, notes } = await readsBack(tmp, { beforeRead: shrink });
    const config = tree.get(`${NIC}/config`);
    expect(config?.kind === "file" && config.data.length).toBe(300);
    expect(notes).toContainEqual({ code: "config-short-read", bdf: "0000:01:00.0", bytes: 300, claimed: 4096 });
    expect(describeNotes(notes).join("\n")).toMatch(/0000:01:00\.0 \(300 of 4096 bytes\)/);
  });

  it("every read point, disturbed in turn, still gives an archive that reads back", async () => {
    await makeFakeSysfs(tmp);
    // the paths a capture reads, in order
    const reads: string[] = [];
    await collectSysfs(tmp, { beforeRead: (rel, phase) => void (phase === "open" && reads.push(rel)) });
    expect(reads.length).toBeGreaterThan(40);
    const pristine = path.join(tmp, "pristine");
    await makeFakeSysfs(pristine);
    for (const [i, rel] of reads.entries()) {
      const root = path.join(tmp, `r${i}`);
      await makeFakeSysfs(root);
      // remove whatever is about to be read (file, link or folder)
      const remove = when(rel, () => rm(path.join(root, rel), { recursive: true, force: true }));
      const out = path.join(tmp, `r${i}.tar.gz`);
      const lines: string[] = [];
      const code = await capture({ root, output: out, log: (l) => lines.push(l), error: (l) => lines.push(l), beforeRead: remove });
      if (code !== 0) {
        // nothing left to capture is the only refusal: and then no archive at all
        expect(lines.join("\n")).toMatch(/nothing captured/);
        expect(existsSync(out)).toBe(false);
        continue;
      }
      const bytes = new Uint8Array(await readFile(out));
      expect(() => predict(snapshotFromSysfs(decodeArchive(bytes, out))), rel).not.toThrow();
      await rm(root, { recursive: true, force: true });
    }
  });
});
