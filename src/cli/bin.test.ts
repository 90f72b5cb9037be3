/**
 * The installed command is the CLI bundle (dist/bundle, one chunk per
 * command), not the TypeScript sources the other suites run. Every command
 * run through bin/iommu-atlas.js must say exactly what the sources say:
 * a chunk that fails to load, or a path that resolves differently from
 * dist/bundle, shows here.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLED_EXAMPLE } from "./load.js";
import { main } from "./main.js";
import { recorder } from "./testing.js";

const BIN = path.resolve("bin/iommu-atlas.js");
const FAULT = "DMAR: [DMA Write NO_PASID] Request device [02:01.0] fault addr 0x100000000 [fault reason 0x02] Present bit in context entry is clear";

const COMMANDS: string[][] = [
  ["show", BUNDLED_EXAMPLE],
  ["tree", BUNDLED_EXAMPLE],
  ["groups", "-v", BUNDLED_EXAMPLE],
  ["explain", "0000:02:01.0", BUNDLED_EXAMPLE],
  ["diff", BUNDLED_EXAMPLE],
  ["whatif", "--kernel", "5.10", BUNDLED_EXAMPLE],
  ["aliases", BUNDLED_EXAMPLE],
  ["whois", "02:01.0", BUNDLED_EXAMPLE],
  ["fault", FAULT, BUNDLED_EXAMPLE],
  ["units", BUNDLED_EXAMPLE],
  ["context-table", "--assign", "0000:01:00.0=1", BUNDLED_EXAMPLE],
  ["check", "examples/plans/whole-group.yaml", BUNDLED_EXAMPLE],
  ["simulate", "examples/scenarios/pcie-to-pci-bridge.yaml"],
  ["labels", BUNDLED_EXAMPLE],
  ["groups", "examples/designs/switchtec-ntb.yaml"],
  ["groups", "src/core/lspci/fixtures/corpus/15-ryzen-zen1-a320-chipset-kernel4.txt"],
];

describe("bin/iommu-atlas.js says what the sources say", () => {
  for (const args of COMMANDS) {
    it(args.map((a) => path.basename(a)).join(" "), async () => {
      const io = recorder();
      const code = await main(args, io);
      const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
      expect(r.stderr).toBe(io.errors() === "" ? "" : `${io.errors()}\n`);
      expect(r.stdout.trimEnd()).toBe(io.text().trimEnd());
      expect(r.status).toBe(code);
      expect(io.text().length).toBeGreaterThan(20);
    });
  }
});
