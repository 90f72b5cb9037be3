import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLED_EXAMPLE } from "./load.js";
import { main } from "./main.js";
import { recorder } from "./testing.js";

const dir = (sub: string) => path.resolve("examples", sub);

describe("the shipped examples", () => {
  for (const name of readdirSync(dir("designs"))) {
    it(`design ${name} predicts groups and explains every member`, async () => {
      const io = recorder();
      expect(await main(["groups", path.join(dir("designs"), name), "--json"], io)).toBe(0);
      const data = JSON.parse(io.text());
      expect(data.groups.length).toBeGreaterThan(1);
      for (const g of data.groups) for (const m of g.members) expect(m.steps.length, m.bdf).toBeGreaterThan(0);
    });
  }

  it("plans on the bundled capture: splitting the bridge's group is unsafe, the isolated NIC is safe", async () => {
    const split = recorder();
    expect(await main(["check", path.join(dir("plans"), "split-bridge-group.yaml"), BUNDLED_EXAMPLE], split)).toBe(1);
    expect(split.text()).toMatch(/^UNSAFE: 2 errors/);
    expect(split.text()).toMatch(/requester ID 02:00\.0 can be emitted in 2 domains/);
    const whole = recorder();
    expect(await main(["check", path.join(dir("plans"), "whole-group.yaml"), BUNDLED_EXAMPLE], whole)).toBe(0);
    expect(whole.text()).toMatch(/driverctl set-override 0000:03:00\.0 vfio-pci/);
  });
});
