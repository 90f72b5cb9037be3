import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ContextTableJson } from "../../core/program/context-table.js";
import { UsageError } from "../errors.js";
import { BUNDLED_EXAMPLE } from "../load.js";
import type { Output } from "../output.js";
import { contextTable, parseAssign } from "./context-table.js";
import type { ContextTableOptions } from "./context-table.js";

const AMD_CASE = path.resolve("..", "shared", "oracle-cases", "pcie-pci-bridge-alias-amd.sysfs.tar.gz");

function capture(): Output & { text: () => string } {
  const out: string[] = [];
  return { out: (s) => void out.push(s), err: (s) => void out.push(s), color: false, text: () => out.join("\n") };
}

async function run(opts: ContextTableOptions): Promise<{ code: number; data: ContextTableJson }> {
  const io = capture();
  const code = await contextTable({ source: BUNDLED_EXAMPLE, ...opts, json: true }, io);
  return { code, data: JSON.parse(io.text()) as ContextTableJson };
}

describe("context-table on the bundled PCIe-to-PCI bridge capture (kernel-spec TV6)", () => {
  it("legacy mode: 02:01.0 gets entries for its own RID and the bridge alias 02:00.0", async () => {
    const { code, data } = await run({ assign: ["0000:02:01.0=vm1"] });
    expect(code).toBe(0);
    expect(data.schema).toBe("iommu-atlas/context-table@1");
    expect([data.arch, data.mode, data.policy, data.kernel]).toEqual(["vtd", "legacy", "every-alias", { version: "6.1", from: "source" }]);
    expect(data.entries.map((e) => [e.rid, e.kind, e.kind === "vtd-context" && [e.did, e.translationType, e.addressWidth, e.domain], e.causes.map((c) => c.text)])).toEqual([
      ["02:00.0", "vtd-context", [1, "multi-level", 48, "vm1"], ["bridge 0000:01:00.0 (pcie-to-pci)"]],
      ["02:01.0", "vtd-context", [1, "multi-level", 48, "vm1"], ["own requester ID"]],
    ]);
    expect(data.roots).toEqual([{ unit: "dmar0", bus: 2, lower: true, upper: false }]);
    expect(data.conflicts).toEqual([]);
    // Linux would attach the rest of the group too
    expect(data.issues.map((i) => [i.code, i.severity])).toEqual([["group-partial", "info"]]);
  });

  it("scalable mode on 6.10+: only 02:01.0, the bridge alias skipped", async () => {
    const { data } = await run({ assign: ["0000:02:01.0=vm1"], mode: "scalable", kernel: "6.10" });
    expect(data.policy).toBe("own-and-mask");
    expect(data.entries.map((e) => e.rid)).toEqual(["02:01.0"]);
    expect(data.assignments[0]!.skipped.map((s) => [s.rid, s.cause, s.via])).toEqual([["02:00.0", "bridge", "0000:01:00.0"]]);
    const e = data.entries[0]!;
    expect(e.kind === "vtd-sm-context" && [e.half, e.pasidTableOf, e.pasidEntry]).toEqual([
      "lower",
      "0000:02:01.0",
      { did: 2, pgtt: 2, pgttName: "second-level", aw: 2, addressWidth: 48, domain: "vm1" },
    ]);
  });

  it("scalable mode before 6.10 (the capture's own 6.1) still programs every alias", async () => {
    const { data } = await run({ assign: ["0000:02:01.0=vm1"], mode: "scalable" });
    expect(data.policy).toBe("every-alias");
    expect(data.entries.map((e) => e.rid)).toEqual(["02:00.0", "02:01.0"]);
  });

  it("02:01.0 and 02:02.0 in different domains both need 02:00.0: a conflict, exit 1", async () => {
    const { code, data } = await run({ assign: ["02:01.0=a", "02:02.0=b"] });
    expect(code).toBe(1);
    expect(data.conflicts.map((c) => c.detail)).toEqual([
      expect.objectContaining({ code: "rid-conflict", rid: 0x0200, bdf: "0000:02:02.0", domain: "b", heldBy: "0000:02:01.0", heldDomain: "a", outcome: "kept-first" }),
    ]);
    expect(data.issues.map((i) => i.code)).toEqual(["group-split"]);
    const io = capture();
    expect(await contextTable({ source: BUNDLED_EXAMPLE, assign: ["02:01.0=a", "02:02.0=b"] }, io)).toBe(1);
    expect(io.text()).toMatch(/^conflict: dmar0: requester ID 02:00\.0 is claimed by domain 'b' for 0000:02:02\.0/m);
  });

  it("one domain for the whole group: no conflict, the alias entry shared", async () => {
    const { code, data } = await run({ assign: ["01:00.0=vm", "02:01.0=vm", "02:02.0=vm"] });
    expect(code).toBe(0);
    expect(data.entries.map((e) => [e.rid, e.users])).toEqual([
      ["01:00.0", ["0000:01:00.0"]],
      ["02:00.0", ["0000:02:01.0", "0000:02:02.0"]],
      ["02:01.0", ["0000:02:01.0"]],
      ["02:02.0", ["0000:02:02.0"]],
    ]);
    expect(data.issues).toEqual([]);
  });

  it("pass-through and a 39-bit width show in the entries", async () => {
    const { data } = await run({ assign: ["03:00.0=identity", "02:01.0=vm"], addressWidth: "39" });
    expect(data.entries.map((e) => e.kind === "vtd-context" && [e.rid, e.translationType, e.addressWidth])).toEqual([
      ["02:00.0", "multi-level", 39],
      ["02:01.0", "multi-level", 39],
      ["03:00.0", "pass-through", 39],
    ]);
  });

  it("prints one line per entry with its cause", async () => {
    const io = capture();
    expect(await contextTable({ source: BUNDLED_EXAMPLE, assign: ["0000:02:01.0=vm1"] }, io)).toBe(0);
    expect(io.text()).toMatch(/^ {2}02:00\.0 {2}P {2}DID 1 {2}TT multi-level {2}AW 48-bit {2}domain vm1 {2}← 0000:02:01\.0: bridge 0000:01:00\.0 \(pcie-to-pci\)$/m);
    expect(io.text()).toMatch(/^dmar0 root entries present for bus 02$/m);
  });
});

describe.skipIf(!existsSync(AMD_CASE))("context-table on AMD (oracle case pcie-pci-bridge-alias-amd; skipped when ../shared is absent)", () => {
  it("the DTE of 02:01.0 is cloned to its IVRS alias 02:00.0", async () => {
    const { code, data } = await run({ source: AMD_CASE, assign: ["0000:02:01.0=vm1"] });
    expect(code).toBe(0);
    expect([data.arch, data.mode, data.policy]).toEqual(["amd", null, "amd-clone"]);
    expect(data.entries.map((e) => e.kind === "amd-dte" && [e.rid, e.domainId, e.mode, e.ir, e.iw, e.clonedFrom, e.causes.map((c) => c.cause)])).toEqual([
      ["02:00.0", 1, 4, true, true, "0000:02:01.0", ["ivrs", "quirk", "bridge"]],
      ["02:01.0", 1, 4, true, true, null, ["own"]],
    ]);
  });

  it("--mode is VT-d only: a warning on AMD", async () => {
    const { data } = await run({ source: AMD_CASE, assign: ["0000:02:01.0=vm1"], mode: "scalable" });
    expect(data.warnings).toEqual(["mode 'scalable' applies to Intel VT-d only; this is an AMD-Vi machine"]);
  });

  it("the IOMMU's own function cannot be assigned: exit 1", async () => {
    const { code, data } = await run({ source: AMD_CASE, assign: ["00:01.0=vm1"] });
    expect(code).toBe(1);
    expect(data.issues.map((i) => i.message)).toEqual(["0000:00:01.0: it is the IOMMU's own function, so Linux cannot attach it to a domain"]);
  });
});

describe("context-table usage errors", () => {
  const bad = async (opts: ContextTableOptions, message: RegExp): Promise<void> => {
    await expect(contextTable({ source: BUNDLED_EXAMPLE, ...opts }, capture())).rejects.toThrow(UsageError);
    await expect(contextTable({ source: BUNDLED_EXAMPLE, ...opts }, capture())).rejects.toThrow(message);
  };

  it("rejects missing or malformed --assign", async () => {
    await bad({}, /--assign is required/);
    await bad({ assign: ["02:01.0"] }, /expected BDF=DOMAIN/);
    await bad({ assign: ["zz:01.0=vm"] }, /expected BDF=DOMAIN/);
    await bad({ assign: ["02:01.0=a b"] }, /domain name/);
    await bad({ assign: ["02:01.0=a", "0000:02:01.0=b"] }, /already assigned to 'a'/);
    await bad({ assign: ["0000:09:00.0=vm"] }, /has no function 0000:09:00\.0/);
  });

  it("rejects an unknown mode or address width", async () => {
    await bad({ assign: ["02:01.0=a"], mode: "turbo" }, /--mode 'turbo': expected legacy or scalable/);
    await bad({ assign: ["02:01.0=a"], addressWidth: "64" }, /--address-width '64'/);
  });

  it("parses BDF=DOMAIN with a default segment", () => {
    expect(parseAssign("2:1.0=vm-1")).toEqual({ bdf: "0000:02:01.0", domain: "vm-1" });
  });
});
