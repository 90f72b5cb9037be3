import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "./main.js";
import { recorder } from "./testing.js";

const CORPUS = path.resolve("..", "shared", "corpus", "lspci-vvnn");
const FIXTURES = path.resolve("src", "core", "lspci", "fixtures", "corpus");
/** a corpus file from the repo's fixtures, else from ../shared */
const corpus = (name: string): string | undefined => [path.join(FIXTURES, name), path.join(CORPUS, name)].find(existsSync);

describe("lspci text as a SOURCE: real hardware ground truth", () => {
  // real machines whose dumps carry the kernel's 'IOMMU group:' lines
  // with the kernel each was recorded on (MANIFEST.tsv): lspci text does not carry it
  const kernels: Record<string, string> = {
    "01-w680-w680d4u-1l.txt": "5.10",
    "02-z390-supermicro-c9z390-pgw-plx.txt": "5.14",
    "05-laptop-amd-framework13-usb4.txt": "6.1",
    "13-ryzen-apu-cezanne-asrock-x300m-stx-pve.txt": "5.15",
  };
  for (const [name, kernel] of Object.entries(kernels)) {
    const file = corpus(name);
    it.skipIf(!file)(`diff is identical for ${name} (skipped when neither fixtures nor ../shared have it)`, async () => {
      const io = recorder();
      const code = await main(["diff", file!, "--kernel", kernel], io);
      expect(io.text()).toMatch(/^identical: \d+ groups/);
      expect(code).toBe(0);
    });
  }

  it("an Intel client board without a DMAR table: a graphics-only unit for the iGPU is inferred and said; per-unit kernels number it first", async () => {
    const file = corpus("01-w680-w680d4u-1l.txt");
    if (!file) return;
    const io = recorder();
    expect(await main(["groups", file, "--kernel", "6.1", "--json"], io)).toBe(0);
    const data = JSON.parse(io.text());
    expect(data.iommu.units).toEqual([
      { name: "dmar0", functions: 1 },
      { name: "dmar1", functions: 20 },
    ]);
    expect(data.groups[0].members.map((m: { bdf: string }) => m.bdf)).toEqual(["0000:00:02.0"]);
    expect(data.groups[1].members.map((m: { bdf: string }) => m.bdf)).toEqual(["0000:00:00.0"]);
    expect(data.warnings.some((w: string) => w.startsWith("no DMAR table in the source: inferred") && w.includes("0000:00:02.0"))).toBe(true);
    const old = recorder();
    expect(await main(["groups", file, "--kernel", "5.10", "--json"], old)).toBe(0);
    expect(JSON.parse(old.text()).groups[0].members).toMatchObject([{ bdf: "0000:00:00.0" }]);
  });

  it("an AMD laptop without an IVRS table: the IOMMU function and the root complex get no group", async () => {
    const file = corpus("05-laptop-amd-framework13-usb4.txt");
    if (!file) return;
    const io = recorder();
    expect(await main(["groups", file, "--json"], io)).toBe(0);
    const data = JSON.parse(io.text());
    expect(data.iommu.kind).toBe("amd-inferred");
    expect(data.ungrouped.map((u: { bdf: string; reason: string }) => [u.bdf, u.reason])).toEqual([
      ["0000:00:00.2", "iommu-itself"],
      ["0000:00:00.0", "not-covered"],
    ]);
  });

  it("a text file with no lspci output names its first line", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "atlas-lspci-"));
    const f = path.join(dir, "paste.txt");
    writeFileSync(f, "Hi all, my GPU passthrough fails:\n\n00:02.0 something\n");
    const io = recorder();
    expect(await main(["groups", f], io)).toBe(2);
    expect(io.errors()).toMatch(/paste\.txt:1: not lspci output, a capture archive/);
  });
});

describe("a dump taken without root", () => {
  it("says which groups rest on ACS it could not see", async () => {
    const io = recorder();
    const file = path.resolve("src", "core", "lspci", "fixtures", "forms", "nested-switches-nonroot.lspci-vvnn.txt");
    expect(await main(["groups", file, "--json"], io)).toBe(0);
    const data = JSON.parse(io.text());
    const members = data.groups.flatMap((g: { members: { bdf: string; dependsOnUnknownAcs: string[] }[] }) => g.members);
    // everything below the root port depends on ACS the dump did not show
    const below = members.filter((m: { bdf: string }) => !m.bdf.startsWith("0000:00:"));
    expect(below.length).toBeGreaterThan(0);
    for (const m of below) expect(m.dependsOnUnknownAcs.length, m.bdf).toBeGreaterThan(0);
  });
});
