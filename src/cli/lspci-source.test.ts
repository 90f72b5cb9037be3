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
  for (const name of ["01-w680-w680d4u-1l.txt", "02-z390-supermicro-c9z390-pgw-plx.txt", "05-laptop-amd-framework13-usb4.txt", "13-ryzen-apu-cezanne-asrock-x300m-stx-pve.txt"]) {
    const file = corpus(name);
    it.skipIf(!file)(`diff is identical for ${name} (skipped when neither fixtures nor ../shared have it)`, async () => {
      const io = recorder();
      const code = await main(["diff", file!], io);
      expect(io.text()).toMatch(/^identical: \d+ groups/);
      expect(code).toBe(0);
    });
  }

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
