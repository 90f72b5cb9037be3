import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fnInput, parts, snapshotOf } from "../testing/topology-builder.js";
import { stepToJson } from "../json/groups.js";
import { ACS_ENABLE_ROWS, ACS_QUIRK_ROWS, ALIAS_QUIRK_ROWS } from "../quirks/index.js";
import { GROUPING_DOC, STEP_SOURCES, citeQuirkRow } from "./cite.js";
import { predict } from "./predict.js";

const doc = readFileSync(path.resolve(GROUPING_DOC), "utf8");
const anchors = new Set([...doc.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));

describe("citations a user can follow", () => {
  it("every step names a kernel function and file, and a section of the shipped doc that exists", () => {
    for (const [code, src] of Object.entries(STEP_SOURCES)) {
      expect(src.kernel, code).toMatch(/^[a-z_]+\(\) .*in drivers\/[a-z/]+\.c/);
      expect(anchors, code).toContain(src.anchor);
    }
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { files: string[] };
    expect(pkg.files).toContain(GROUPING_DOC);
  });

  it("the doc's own links point at its sections", () => {
    for (const m of doc.matchAll(/\]\(#([^)]+)\)/g)) expect(anchors, m[1]).toContain(m[1]);
  });

  it("cites no document outside the package", () => {
    const p = predict(
      snapshotOf([fnInput("00:00.0", parts.hostBridge()), fnInput("00:1c.0", { ...parts.rootPort(1), acs: { cap: 0x1d, ctrl: 0 } }), fnInput("01:00.0", parts.endpoint())]),
    );
    const cites = [...p.groups.steps].flatMap(([bdf, steps]) => steps.map((s) => stepToJson(s, bdf).cite));
    expect(cites.length).toBeGreaterThan(0);
    for (const c of cites) {
      expect(c).not.toMatch(/kernel-spec|§/);
      expect(c).toMatch(/; docs\/how-linux-groups\.md#[a-z-]+$/);
    }
    expect(cites).toContain(`pci_acs_path_enabled() and pci_acs_enabled() in drivers/pci/pci.c, called by pci_device_group() in drivers/iommu/iommu.c; ${GROUPING_DOC}#acs-path`);
  });

  it("a step that rests on a quirk names the quirk's fixup row and the release it came in", () => {
    // Marvell 88SE9123: DMA also as function 1, which holds the SATA controller's sibling
    const p = predict(
      snapshotOf([
        fnInput("00:00.0", parts.hostBridge()),
        fnInput("00:1c.0", parts.rootPort(1)),
        fnInput("01:00.0", { ...parts.endpoint(), vendor: 0x1b4b, device: 0x9123, multifunction: true }),
        fnInput("01:00.1", { ...parts.endpoint(), vendor: 0x1b4b, device: 0x91a4 }),
      ]),
    );
    const quirkCites = [...p.groups.steps].flatMap(([bdf, steps]) => steps.map((s) => stepToJson(s, bdf, p).cite)).filter((c) => c.includes("quirk "));
    expect(quirkCites.some((c) => /quirk dma-func1-alias\/[^:]+: the DECLARE_PCI_FIXUP_HEADER row of quirk_dma_func1_alias\(\) in drivers\/pci\/quirks\.c, since ≈3\.15/.test(c))).toBe(true);
  });

  it("every quirk row has a citation in kernel terms", () => {
    for (const r of [...ALIAS_QUIRK_ROWS, ...ACS_QUIRK_ROWS, ...ACS_ENABLE_ROWS]) {
      const c = citeQuirkRow(r.id);
      expect(c.startsWith(`quirk ${r.id}: `), r.id).toBe(true);
      if (r.ref.startsWith("torvalds/linux drivers/")) expect(c, r.id).toMatch(/DECLARE_PCI_FIXUP_(HEADER|FINAL) row of \w+\(\) in drivers\/|entry in drivers\//);
    }
    expect(citeQuirkRow("ivrs")).toMatch(/IVRS/);
  });
});
