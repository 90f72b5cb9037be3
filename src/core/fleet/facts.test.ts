/**
 * Host facts over synthetic machines: "alone" and its reason, and one risk
 * of each kind, each from the core check it reuses.
 */
import { describe, expect, it } from "vitest";
import { encodeDmar, encodeDrhd, encodeRmrr } from "../acpi/encode.js";
import { SCOPE_ENDPOINT } from "../acpi/dmar.js";
import { predict } from "../iommu/predict.js";
import type { Snapshot } from "../sources/snapshot.js";
import { fnInput, parts, snapshotOf } from "../testing/topology-builder.js";
import { hostFacts, parsePartition, partitionText } from "./facts.js";
import { labelsText, nodeLabels } from "./labels.js";

const facts = (s: Snapshot) => hostFacts(s, predict(s));
const ACS_OK = { cap: 0x5f, ctrl: 0x1d };

/** a GPU + audio behind an ACS root port; a NIC and an NVMe drive behind a switch under a root port without ACS */
const machine = (cmdline = "intel_iommu=on"): Snapshot =>
  snapshotOf(
    [
      fnInput("00:00.0", parts.hostBridge()),
      fnInput("00:01.0", parts.rootPort(1), { driver: "pcieport" }),
      fnInput("01:00.0", { pcieType: 0, multifunction: true, classCode: 0x030000, vendor: 0x10de, device: 0x2204 }),
      fnInput("01:00.1", { pcieType: 0, classCode: 0x040300, vendor: 0x10de, device: 0x1aef }),
      fnInput("00:02.0", parts.rootPort(2, 5, false), { driver: "pcieport" }),
      fnInput("02:00.0", parts.upstream(2, 3, 5)),
      fnInput("03:00.0", parts.downstream(3, 4)),
      fnInput("03:01.0", parts.downstream(3, 5)),
      fnInput("04:00.0", { pcieType: 0, classCode: 0x020000, vendor: 0x8086, device: 0x1572 }),
      fnInput("05:00.0", { pcieType: 0, classCode: 0x010802, vendor: 0x144d, device: 0xa808 }),
    ],
    { cmdline },
  );

describe("hostFacts", () => {
  it("a device is alone when its group holds only its own functions and bridges; else the step that joined them, in one line", () => {
    const f = facts(machine());
    const by = new Map(f.functions.map((x) => [x.bdf, x]));
    expect(by.get("0000:01:00.0")).toMatchObject({ alone: true, reason: null });
    expect(by.get("0000:01:00.1")).toMatchObject({ alone: true, reason: null });
    const nic = by.get("0000:04:00.0")!;
    expect(nic.alone).toBe(false);
    expect(nic.reason).toMatch(/^shares group \d+ with 0000:05:00.0; /);
    expect(nic.reason).not.toContain("\n");
    expect(by.get("0000:05:00.0")!.alone).toBe(false);
    expect(f.acsOverride).toBeNull();
    expect(f.risks).toEqual([]);
    expect(f.groupCount).toBe(new Set(f.functions.map((x) => x.group)).size);
    expect(f.largestGroup).toBe(Math.max(...[...new Set(f.functions.map((x) => x.group))].map((g) => f.functions.filter((x) => x.group === g).length)));
  });

  it("the partition text round-trips", () => {
    const p = predict(machine());
    const back = parsePartition(partitionText(p));
    expect(back.groups.map((g) => [...g.members].sort().join(",")).sort()).toEqual(p.groups.groups.map((g) => [...g.members].sort().join(",")).sort());
  });

  it("an ACS override splits the switch and is a risk that names what can still reach peer to peer", () => {
    const f = facts(machine("intel_iommu=on pcie_acs_override=downstream"));
    expect(f.acsOverride).toBe("downstream");
    expect(f.functions.find((x) => x.bdf === "0000:04:00.0")!.alone).toBe(true);
    expect(f.risks).toHaveLength(1);
    expect(f.risks[0]).toMatchObject({ kind: "acs-override", bdf: null });
    expect(f.risks[0]!.text).toContain("0000:04:00.0");
  });

  it("an RMRR device in a shared group is a risk; alone, it is not", () => {
    const dmar = encodeDmar([
      encodeDrhd({ includeAll: true, registerBase: 0xfed90000n }),
      encodeRmrr({ base: 0x7c000000n, limit: 0x7c7fffffn, scopes: [{ type: SCOPE_ENDPOINT, startBus: 4, path: [[0, 0]] }, { type: SCOPE_ENDPOINT, startBus: 1, path: [[0, 0]] }] }),
    ]);
    const s = { ...machine(), acpi: { dmar } };
    const risks = facts(s).risks;
    expect(risks.map((r) => [r.kind, r.bdf])).toEqual([["rmrr-shared-group", "0000:04:00.0"]]);
    expect(risks[0]!.text).toContain("0000:05:00.0");
  });

  it("phantom functions that reach another group are an alias conflict", () => {
    const s = snapshotOf([
      fnInput("00:1c.0", parts.rootPort(3), { driver: "pcieport" }),
      fnInput("03:00.0", { pcieType: 0, multifunction: true, acs: ACS_OK, phantom: 1 }),
      fnInput("03:00.4", { pcieType: 0, acs: ACS_OK }),
    ]);
    const risks = facts(s).risks;
    expect(risks.map((r) => r.kind)).toEqual(["alias-conflict"]);
    expect(risks[0]!.text).toContain("03:00.4");
  });
});

describe("nodeLabels", () => {
  it("counts devices (not functions) per kind, isolated only without an override", () => {
    const get = (s: Snapshot) => Object.fromEntries(nodeLabels(facts(s)));
    const plain = get(machine());
    expect(plain).toMatchObject({
      "iommu-atlas.iommu": "true",
      "iommu-atlas.acs-override": "false",
      "iommu-atlas.gpu-count": "1",
      "iommu-atlas.gpu-isolated-count": "1",
      "iommu-atlas.gpu-isolated": "true",
      "iommu-atlas.nic-count": "1",
      "iommu-atlas.nic-isolated-count": "0",
      "iommu-atlas.nic-isolated": "false",
      "iommu-atlas.nvme-isolated": "false",
    });
    const overridden = get(machine("intel_iommu=on pcie_acs_override=downstream"));
    expect(overridden["iommu-atlas.nic-isolated-count"]).toBe("1");
    expect(overridden["iommu-atlas.nic-isolated"]).toBe("false");
    expect(get(machine("intel_iommu=off"))["iommu-atlas.iommu"]).toBe("false");
  });

  it("writes key=value lines node-feature-discovery accepts", () => {
    const text = labelsText(nodeLabels(facts(machine())));
    for (const line of text.trimEnd().split("\n")) expect(line).toMatch(/^[a-z0-9][a-z0-9.-]{0,62}=[A-Za-z0-9._-]{0,63}$/);
  });
});
