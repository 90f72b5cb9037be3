/**
 * Atomic output: the real CLI, killed with SIGKILL at random moments while it
 * captures and writes, leaves either the old file or the complete new one.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLED_EXAMPLE } from "./load.js";
import { decodeArchive } from "./sysfs/archive.js";
import { makeFakeSysfs } from "./sysfs/fake-sysfs.js";

const CLI = path.resolve("bin/iommu-atlas.js");
const haveDist = existsSync(path.resolve("dist/cli/main.js"));

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "iommu-atlas-atomic-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** runs the CLI; kills it with SIGKILL after `killAfterMs` (if it is still running) */
function run(args: string[], env: Record<string, string>, killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: "ignore" });
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - started });
    });
  });
}

/** a deterministic pseudo-random sequence, so a failing run can be repeated */
function* delays(seed: number, span: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    yield Math.floor((x / 2 ** 32) * span);
  }
}

describe.skipIf(!haveDist)("capture -o under SIGKILL", () => {
  it("leaves the old file or the complete new one, whenever it is killed", async () => {
    const root = path.join(tmp, "root");
    await makeFakeSysfs(root, { deep: true });
    // an incompressible ACPI table makes the archive several write chunks long
    const table = new Uint8Array(160 * 1024);
    const noise = delays(42, 256);
    for (let i = 0; i < table.length; i++) table[i] = noise.next().value;
    await writeFile(path.join(root, "sys/firmware/acpi/tables/DMAR"), table);
    const out = path.join(tmp, "capture.tar.gz");
    const old = new TextEncoder().encode("the previous file, which must survive a killed write\n");
    await writeFile(out, old);

    // the new file as an undisturbed run writes it
    const reference = path.join(tmp, "reference.tar.gz");
    const slow = { IOMMU_ATLAS_WRITE_DELAY_MS: "40" };
    const full = await run(["capture", "--root", root, "-o", reference], slow);
    expect(full.code).toBe(0);
    const expected = readFileSync(reference);
    expect(expected.length).toBeGreaterThan(16 * 1024 * 2); // several chunks: a kill can land between them
    decodeArchive(new Uint8Array(expected), reference);

    let killed = 0;
    let completed = 0;
    const next = delays(1234567, full.ms);
    for (let i = 0; i < 16; i++) {
      // every other run writes slowly, so that kills land inside the write itself
      const r = await run(["capture", "--root", root, "-o", out], i % 2 === 0 ? slow : {}, next.next().value);
      const now = readFileSync(out);
      if (r.signal === "SIGKILL") killed++;
      else completed++;
      const isOld = Buffer.compare(now, Buffer.from(old)) === 0;
      const isNew = Buffer.compare(now, expected) === 0;
      expect(isOld || isNew, `run ${i} (${r.signal ?? `exit ${r.code}`} after ${r.ms} ms) left ${now.length} bytes that are neither`).toBe(true);
      if (isNew) await writeFile(out, old); // back to the old file: the next kill must keep it again
    }
    // the test only proves something when kills landed before the end
    expect(killed).toBeGreaterThanOrEqual(4);
    // leftovers are only temporary files beside the output, never another name
    const names = await readdir(tmp);
    for (const name of names) expect(name).toMatch(/^(root|capture\.tar\.gz|reference\.tar\.gz|\.capture\.tar\.gz\.tmp-\d+)$/);
    expect(killed + completed).toBe(16);
  });
});

describe.skipIf(!haveDist)("labels -o under SIGKILL", () => {
  it("node-feature-discovery never sees a half-written feature file", async () => {
    const dir = path.join(tmp, "features.d");
    await mkdir(dir);
    const out = path.join(dir, "iommu-atlas");
    const old = "old.feature=true\n";
    await writeFile(out, old);
    const reference = path.join(tmp, "labels-reference");
    const slow = { IOMMU_ATLAS_WRITE_DELAY_MS: "150" };
    const full = await run(["labels", BUNDLED_EXAMPLE, "-o", reference], slow);
    expect(full.code).toBe(0);
    const expected = readFileSync(reference, "utf8");
    expect(expected).toMatch(/^iommu-atlas\.\S+=/m);
    let killed = 0;
    const next = delays(7654321, full.ms);
    for (let i = 0; i < 8; i++) {
      const r = await run(["labels", BUNDLED_EXAMPLE, "-o", out], slow, next.next().value);
      const now = readFileSync(out, "utf8");
      if (r.signal === "SIGKILL") killed++;
      expect(now === old || now === expected, `run ${i} (${r.signal ?? `exit ${r.code}`} after ${r.ms} ms) left ${JSON.stringify(now.slice(0, 80))}`).toBe(true);
      if (now === expected) await writeFile(out, old);
    }
    expect(killed).toBeGreaterThanOrEqual(3);
    // what a kill leaves in the feature folder is a dot file, which node-feature-discovery skips
    for (const name of await readdir(dir)) expect(name).toMatch(/^(iommu-atlas|\.iommu-atlas\.tmp-\d+)$/);
  });
});

