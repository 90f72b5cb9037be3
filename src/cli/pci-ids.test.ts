import { describe, expect, it } from "vitest";
import { BUNDLED_EXAMPLE } from "./load.js";
import { main } from "./main.js";
import { recorder } from "./testing.js";

describe("names from pci.ids in show, tree and groups", () => {
  it("prints Vendor Device as lspci does, and the JSON carries them", async () => {
    const tree = recorder();
    expect(await main(["tree", BUNDLED_EXAMPLE], tree)).toBe(0);
    expect(tree.text()).toContain("[8086:10d3]  Ethernet controller: Intel Corporation 82574L Gigabit Network Connection  Endpoint  group 5");
    const show = recorder();
    expect(await main(["show", BUNDLED_EXAMPLE, "--json"], show)).toBe(0);
    const f = JSON.parse(show.text()).functions.find((x: { bdf: string }) => x.bdf === "0000:00:02.0");
    expect(f).toMatchObject({ vendorName: "Red Hat, Inc.", deviceName: "QEMU PCIe Root port", name: "Red Hat, Inc. QEMU PCIe Root port", className: "PCI bridge" });
    const groups = recorder();
    expect(await main(["groups", BUNDLED_EXAMPLE], groups)).toBe(0);
    expect(groups.text()).toContain("Host bridge: Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller");
  });
});
