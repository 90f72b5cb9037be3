import { describe, expect, it } from "vitest";
import { snapshotFromDesign } from "../design/from-design.js";
import { predict } from "./predict.js";

function design(text: string) {
  const r = snapshotFromDesign(text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.snapshot;
}

const spt = design(`devices:
  - { bdf: "00:00.0", type: host-bridge, id: "8086:1910" }
  - { bdf: "00:1c.0", type: root-port, id: "8086:a110", bus: 1, acs: true, multifunction: true }
  - { bdf: "00:1c.4", type: root-port, id: "8086:a114", bus: 2, acs: true }
  - { bdf: "01:00.0", type: endpoint }
  - { bdf: "02:00.0", type: endpoint }
`);

const sizes = (p: ReturnType<typeof predict>) => p.groups.groups.map((g) => g.members.length);

describe("predict in boot mode", () => {
  it("Sunrise Point root ports isolate once the SPT hook has enabled their ACS (kernel-spec §4.6)", () => {
    const p = predict(spt);
    expect(sizes(p)).toEqual([1, 1, 1, 1, 1]);
    expect(p.acs.enabled(p.topology.functions.get("0000:00:1c.0")!, 0x1d).reason).toEqual({ kind: "quirk", rowId: expect.stringContaining("spt") });
  });

  it("disable_acs_redir on a Sunrise Point port merges what is below it", () => {
    const p = predict({ ...spt, cmdline: "pci=disable_acs_redir=0000:00:1c.4" });
    expect(p.groups.groupOf.get("0000:02:00.0")).toBe(p.groups.groupOf.get("0000:00:1c.4"));
    expect(p.groups.groupOf.get("0000:01:00.0")).not.toBe(p.groups.groupOf.get("0000:00:1c.0"));
  });

  it("--acs edits apply on top of the modelled boot value, not instead of it", () => {
    const snap = design(`devices:
  - { bdf: "00:01.0", type: root-port, bus: 1, acs: true }
  - { bdf: "01:00.0", type: endpoint }
`);
    expect(sizes(predict(snap, { acsEdits: [{ bdf: "0000:00:01.0", set: 0x04, clear: 0 }] }))).toEqual([1, 1]);
    expect(sizes(predict(snap, { acsEdits: [{ bdf: "0000:00:01.0", set: 0, clear: 0x04 }] }))).toEqual([2]);
  });
});
