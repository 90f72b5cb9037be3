import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLED_EXAMPLE } from "./load.js";
import { main } from "./main.js";
import { recorder } from "./testing.js";

const dir = mkdtempSync(path.join(tmpdir(), "atlas-main-"));
const file = (name: string, data: string | Uint8Array): string => {
  const p = path.join(dir, name);
  writeFileSync(p, data);
  return p;
};

/** bad input: exit 2, exactly one line naming the file, never a stack trace */
async function expectBadInput(args: string[], pattern: RegExp): Promise<void> {
  const io = recorder();
  expect(await main(args, io)).toBe(2);
  const err = io.errors();
  expect(err.split("\n")).toHaveLength(1);
  expect(err).toMatch(pattern);
  expect(err).not.toMatch(/\n\s+at /);
}

describe("the command line on bad input", () => {
  it("a missing file", () => expectBadInput(["tree", path.join(dir, "nope.tar.gz")], /nope\.tar\.gz: no such file/));
  it("a text file that is no source", () => expectBadInput(["show", file("notes.txt", "\n\nhello world\n")], /notes\.txt:3: not lspci output, a capture archive/));
  it("a truncated archive", () => {
    const bytes = readFileSync(BUNDLED_EXAMPLE);
    return expectBadInput(["groups", file("cut.tar.gz", bytes.subarray(0, bytes.length / 2))], /cut\.tar\.gz: .*gzip/i);
  });
  it("a design with a wrong field names its line", () =>
    expectBadInput(["groups", file("bad.yaml", "devices:\n  - bdf: 00:00.0\n    type: endpoint\n    acs: maybe\n")], /bad\.yaml:4: devices\[0\]\.acs: /));
  it("an unknown command", () => expectBadInput(["frobnicate"], /unknown command 'frobnicate'/));
  it("a bad --acs value", () => expectBadInput(["whatif", BUNDLED_EXAMPLE, "--acs", "00:02.0=+XX"], /unknown ACS flag 'XX'/));
  it("a bad --kernel value", () => expectBadInput(["groups", BUNDLED_EXAMPLE, "--kernel", "linux"], /--kernel 'linux'/));
  it("explain of an absent function", () => expectBadInput(["explain", "0000:07:00.0", BUNDLED_EXAMPLE], /has no function 0000:07:00\.0/));
  it("diff of a source without kernel groups", () =>
    expectBadInput(["diff", file("d.yaml", "devices:\n  - { bdf: '00:00.0', type: host-bridge }\n")], /records no IOMMU groups/));
});

describe("the command line on good input", () => {
  it("show --json carries the documented schema and every function", async () => {
    const io = recorder();
    expect(await main(["show", BUNDLED_EXAMPLE, "--json"], io)).toBe(0);
    const data = JSON.parse(io.text());
    expect(data.schema).toBe("iommu-atlas/show@1");
    expect(data.functions).toHaveLength(10);
    expect(data.functions.find((f: { bdf: string }) => f.bdf === "0000:00:02.0").acs).toEqual({ state: "present", cap: "005f", ctrl: "001d", flags: "SV+ TB- RR+ CR+ UF+ DT-" });
  });

  it("tree nests the PCIe-to-PCI bridge's devices under it", async () => {
    const io = recorder();
    expect(await main(["tree", BUNDLED_EXAMPLE, "--json"], io)).toBe(0);
    const data = JSON.parse(io.text());
    const port = data.roots[0].functions.find((f: { bdf: string }) => f.bdf === "0000:00:02.0");
    const bridge = port.children[0].functions[0];
    expect(bridge.bdf).toBe("0000:01:00.0");
    expect(bridge.children[0].functions.map((f: { bdf: string }) => f.bdf)).toEqual(["0000:02:01.0", "0000:02:02.0"]);
  });

  it("whatif with disable_acs_redir shows the merge", async () => {
    const io = recorder();
    expect(await main(["whatif", BUNDLED_EXAMPLE, "--cmdline", "pci=disable_acs_redir=0000:00:03.0"], io)).toBe(0);
    expect(io.text()).toMatch(/merged: \{0000:00:03\.0\} \+ \{0000:03:00\.0\} → \{0000:00:03\.0, 0000:03:00\.0\}/);
  });

  it("explain a design device names the override and who can still reach it", async () => {
    const io = recorder();
    expect(await main(["explain", "04:00.0", "examples/designs/gpu-behind-switch.yaml"], io)).toBe(0);
    expect(io.text()).toMatch(/pcie_acs_override=downstream → its group becomes \{0000:04:00\.0\}/);
    expect(io.text()).toMatch(/0000:03:00\.0, 0000:03:00\.1, 0000:05:00\.0 can still reach it/);
  });
});

describe("whatif with an override", () => {
  it("names what the override gives up: peers below a switch without ACS", async () => {
    const io = recorder();
    expect(await main(["whatif", "examples/designs/gpu-behind-switch.yaml", "--cmdline", "pcie_acs_override=downstream"], io)).toBe(0);
    const text = io.text();
    expect(text).toMatch(/^6 groups before, 9 after/);
    expect(text).toMatch(/split: \{0000:02:10\.0, 0000:04:00\.0\} → \{0000:02:10\.0\} \{0000:04:00\.0\}/);
    expect(text).toMatch(/isolation lost: 0000:04:00\.0 is split off only by the override; 0000:03:00\.0, 0000:03:00\.1, 0000:05:00\.0 can still reach it/);
  });
});

describe("file errors", () => {
  it("a path through a file is one clean line, not a raw Node error", () => expectBadInput(["show", "README.md/x"], /README\.md\/x: not a directory \(ENOTDIR\)/));
  it("an unreadable file is bad input, not a bug", () => expectBadInput(["show", "/proc/self/mem"], /\/proc\/self\/mem: .*\((EIO|EACCES|EPERM)\)/));
});
