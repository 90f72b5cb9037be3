import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLED_EXAMPLE, loadSource } from "./load.js";

const SHARED = path.resolve("..", "shared", "oracle-cases");
const archives = existsSync(SHARED) ? readdirSync(SHARED).filter((n) => n.endsWith(".sysfs.tar.gz")) : [];

describe("loading real captures", () => {
  it("reads the bundled capture into the expected topology", async () => {
    const { snapshot } = await loadSource(BUNDLED_EXAMPLE);
    const t = snapshot.topology;
    expect(t.functions.size).toBe(10);
    expect(t.functions.get("0000:01:00.0")).toMatchObject({ bridgeKind: "pcie-to-pci", secondary: 2, subordinate: 2 });
    expect(t.functions.get("0000:00:02.0")?.acs).toMatchObject({ state: "present", cap: 0x5f, ctrl: 0x1d });
    expect(snapshot.kernelGroups?.get(4)).toEqual(["0000:01:00.0", "0000:02:01.0", "0000:02:02.0"]);
    expect(snapshot.osrelease).toMatch(/^6\.1\./);
    expect(snapshot.acpi.dmar?.byteLength).toBeGreaterThan(48);
  });

  it.skipIf(archives.length === 0)("decodes every function of every oracle archive without an issue (skipped when ../shared/oracle-cases is absent)", async () => {
    let functions = 0;
    for (const name of archives) {
      const { snapshot } = await loadSource(path.join(SHARED, name));
      const t = snapshot.topology;
      expect(t.issues, name).toEqual([]);
      for (const f of t.functions.values()) {
        expect(f.issues, `${name} ${f.bdf}`).toEqual([]);
        expect(f.acs.state, `${name} ${f.bdf}`).not.toBe("unknown");
        functions++;
      }
      // every function the kernel registered is in the scan order exactly once
      expect(new Set(t.scanOrder).size, name).toBe(t.functions.size);
      // every function the kernel grouped is one we know
      for (const members of snapshot.kernelGroups?.values() ?? []) for (const m of members) expect(t.functions.has(m), `${name} ${m}`).toBe(true);
    }
    expect(functions).toBeGreaterThan(1000);
  });
});
