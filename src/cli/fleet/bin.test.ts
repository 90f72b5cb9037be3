/**
 * The installed command: `bin/iommu-atlas.js` runs the CLI bundle in
 * dist/bundle, whose fleet code must find its worker threads in
 * dist/cli/fleet (the suite beside this file runs the TypeScript sources,
 * which find them another way).
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLED_EXAMPLE } from "../load.js";

const BIN = path.resolve("bin/iommu-atlas.js");

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "iommu-atlas-fleet-bin-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("fleet through bin/iommu-atlas.js", () => {
  it("ingests on worker threads and answers from the store", () => {
    const db = path.join(tmp, "db");
    const run = (...args: string[]): { code: number | null; out: string; err: string } => {
      const r = spawnSync(process.execPath, [BIN, "fleet", ...args, "--db", db], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const ingested = run("ingest", "--jobs", "2", "--host-from", "name", BUNDLED_EXAMPLE, "--json");
    expect(ingested.err).toBe("");
    expect(ingested.code).toBe(0);
    const hosts = run("hosts", "--json");
    expect(hosts.code).toBe(0);
    expect((JSON.parse(hosts.out) as { hosts: { name: string }[] }).hosts.map((h) => h.name)).toEqual(["pcie-pci-bridge-alias"]);
  }, 60_000);
});
