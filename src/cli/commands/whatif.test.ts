import path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../main.js";
import { recorder } from "../testing.js";

const fixture = (kernel: string) => path.resolve("src", "cli", "fixtures", "kernel-oracle", `pxb-order.linux-${kernel}.sysfs.tar.gz`);
const CONFIG = "pci=config_acs=xxxxx@0000:00:06.0";

describe("whatif keyed by the stable patch level", () => {
  it("a 6.12.118 capture: config_acs= naming no flag leaves the port at the firmware's 0, so it merges", async () => {
    const io = recorder();
    expect(await main(["whatif", fixture("6.12"), "--cmdline", CONFIG], io)).toBe(0);
    expect(io.text()).toMatch(/merged: \{0000:00:06\.0\} \+ \{0000:01:00\.0\} → \{0000:00:06\.0, 0000:01:00\.0\}/);
    expect(io.text()).toMatch(/0000:00:06\.0: the firmware's ACS control value is not in the source; assumed 0/);
  });

  it("--kernel 6.12.22, before the stable fix, keeps the kernel's enabling: nothing changes", async () => {
    const io = recorder();
    expect(await main(["whatif", fixture("6.12"), "--cmdline", CONFIG, "--kernel", "6.12.22"], io)).toBe(0);
    expect(io.text()).toMatch(/no group changes/);
  });

  it("a 6.1 capture moved to --kernel 6.12.118 by the option", async () => {
    const io = recorder();
    expect(await main(["whatif", fixture("6.1"), "--cmdline", CONFIG, "--kernel", "6.12.118", "--json"], io)).toBe(0);
    const data = JSON.parse(io.text());
    expect(data.change.kernel).toBe("6.12.118");
  });
});
