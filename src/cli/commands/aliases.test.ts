import { describe, expect, it } from "vitest";
import { BUNDLED_EXAMPLE } from "../load.js";
import { main } from "../main.js";
import { recorder } from "../testing.js";

describe("aliases and whois", () => {
  it("lists the PCIe-to-PCI bridge alias after the own RID, in the documented JSON shape", async () => {
    const io = recorder();
    expect(await main(["aliases", BUNDLED_EXAMPLE, "--json"], io)).toBe(0);
    const data = JSON.parse(io.text());
    expect(data.schema).toBe("iommu-atlas/aliases@1");
    const dev = data.devices.find((d: { bdf: string }) => d.bdf === "0000:02:01.0");
    expect(dev.aliases.map((a: { rid: string; cause: string; via?: string }) => ({ rid: a.rid, cause: a.cause, via: a.via }))).toEqual([
      { rid: "0000:02:01.0", cause: "own", via: undefined },
      { rid: "0000:02:00.0", cause: "bridge", via: "0000:01:00.0" },
    ]);
  });

  it("whois finds both devices behind the bridge for the bridge's alias ID", async () => {
    const io = recorder();
    expect(await main(["whois", "02:00.0", BUNDLED_EXAMPLE, "--json"], io)).toBe(0);
    const data = JSON.parse(io.text());
    expect(data.emitters.map((e: { bdf: string }) => e.bdf)).toEqual(["0000:02:01.0", "0000:02:02.0"]);
    expect(data.owner).toBeNull();
  });

  it("whois exits 1 when no function emits the ID and 2 on a malformed ID", async () => {
    expect(await main(["whois", "09:00.0", BUNDLED_EXAMPLE], recorder())).toBe(1);
    const io = recorder();
    expect(await main(["whois", "zz:00.0", BUNDLED_EXAMPLE], io)).toBe(2);
    expect(io.errors()).toMatch(/^iommu-atlas: 'zz:00.0' is not a requester ID/);
  });
});
