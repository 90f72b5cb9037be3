import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLED_EXAMPLE } from "../load.js";
import { main } from "../main.js";
import { recorder as capture } from "../testing.js";

const SHARED = path.resolve("..", "shared", "oracle-cases");
const archives = existsSync(SHARED) ? readdirSync(SHARED).filter((n) => n.endsWith(".sysfs.tar.gz")) : [];

describe("diff against the real kernel's groups", () => {
  it("matches the bundled capture exactly (exit 0)", async () => {
    const io = capture();
    expect(await main(["diff", BUNDLED_EXAMPLE], io)).toBe(0);
    expect(io.text()).toMatch(/^identical: 6 groups/);
  });

  it.skipIf(archives.length === 0)("matches every oracle case, membership and numbers (skipped when ../shared/oracle-cases is absent)", async () => {
    const failed: string[] = [];
    for (const name of archives) {
      const io = capture();
      const code = await main(["diff", path.join(SHARED, name), "--json"], io);
      if (code !== 0) failed.push(`${name}: ${io.text().slice(0, 2000)}`);
    }
    expect(failed).toEqual([]);
    expect(archives.length).toBeGreaterThanOrEqual(124);
  });

  const regressions = path.resolve("src", "cli", "fixtures", "kernel-oracle");
  for (const name of readdirSync(regressions).filter((n) => n.endsWith(".sysfs.tar.gz"))) {
    it(`matches the kernel-oracle regression ${name}, captured and --boot`, async () => {
      for (const flags of [[], ["--boot"]]) {
        const io = capture();
        const code = await main(["diff", path.join(regressions, name), ...flags], io);
        expect(io.text(), flags.join(" ")).toMatch(/^identical/);
        expect(code).toBe(0);
      }
    });
  }

  it("reports a changed kernel decision as a difference (exit 1)", async () => {
    // kernel 6.11 without the PCH fix does not change QEMU captures, but disabling ACS on a root port does
    const io = capture();
    const code = await main(["diff", BUNDLED_EXAMPLE, "--boot", "--cmdline", "pci=disable_acs_redir=0000:00:02.0"], io);
    expect(code).toBe(1);
    expect(io.text()).toMatch(/kernel group 1 \{0000:00:02\.0\} predicted as group 1/);
  });
});
