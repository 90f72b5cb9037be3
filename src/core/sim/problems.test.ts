/**
 * Bad scenarios: every problem names its YAML line and field, and the
 * impossible configurations (requester-ID collisions, overlapping windows,
 * mappings outside the address width, VF routing IDs past ffff) are
 * refused with their reason.
 */
import { describe, expect, it } from "vitest";
import { formatKernel } from "../kernel/version.js";
import type { ScenarioProblem } from "./parse-scenario.js";
import { loadScenario } from "./simulation.js";

/** a two-host Switchtec scenario; `edit` replaces parts of it */
const BASE = `schema: iommu-atlas/scenario@1
hosts:
  - name: A
    kernel: "6.8"
    devices:
      - { bdf: "00:00.0", type: host-bridge }
      - { bdf: "00:01.0", type: root-port, bus: [3, 4], acs: true }
      - { bdf: "03:00.0", type: upstream-port, id: "11f8:8536", bus: 4, multifunction: true }
      - { bdf: "03:00.1", type: endpoint, id: "11f8:8536", class: "068000" }
    domains:
      - name: ntb
        mappings:
          - { iova: 0x100000000, paddr: 0x7f000000, size: 1M }
    attach:
      - { bdf: "03:00.1", domain: ntb }
  - name: B
    kernel: "6.8"
    devices:
      - { bdf: "00:00.0", type: host-bridge }
      - { bdf: "00:01.0", type: root-port, bus: [2, 3], acs: true }
      - { bdf: "02:00.0", type: upstream-port, id: "11f8:8536", bus: 3, multifunction: true }
      - { bdf: "02:00.1", type: endpoint, id: "11f8:8536", class: "068000" }
ntb:
  partitions:
    - id: 0
      host: A
      nt: "03:00.1"
      requester_ids:
        - { rid: "00:00.0", proxy: "05.0" }
    - id: 1
      host: B
      nt: "02:00.1"
      requester_ids:
        - { rid: "00:00.0", proxy: "04.2" }
      windows:
        - { bar: 2, base: 0x90000000, size: 1M, target: 0, xlate: 0x100000000 }
transactions:
  - host: B
    from: cpu
    address: 0x90000000
`;

function problems(text: string): ScenarioProblem[] {
  const r = loadScenario(text);
  if (r.ok) throw new Error("expected problems, the scenario loaded");
  return [...r.problems];
}

const edit = (from: string, to: string): string => {
  if (!BASE.includes(from)) throw new Error(`not in BASE: ${from}`);
  return BASE.replace(from, to);
};
const lineOf = (text: string, needle: string): number => text.split("\n").findIndex((l) => l.includes(needle)) + 1;

describe("scenario problems carry line and field", () => {
  it("the base scenario loads and the peer write is delivered", () => {
    const r = loadScenario(BASE);
    expect(r.ok && r.simulation.run().results[0]!.outcome).toMatchObject({ kind: "delivered", rid: 0x0322 });
  });

  it("an unknown field", () => {
    const text = edit("    kernel: \"6.8\"\n    devices:", "    kernel: \"6.8\"\n    colour: red\n    devices:");
    expect(problems(text)[0]).toMatchObject({ line: lineOf(text, "colour"), path: "hosts[0]" });
  });

  it("a bad device inline points at the scenario's own line", () => {
    const text = edit('      - { bdf: "03:00.0", type: upstream-port', '      - { bdf: "03:20.0", type: upstream-port');
    expect(problems(text)[0]).toMatchObject({ line: lineOf(text, "03:20.0"), path: "hosts[0].devices[2].bdf" });
  });

  it("a proxy devfn left unquoted", () => {
    const text = edit('proxy: "04.2"', "proxy: 04.2");
    expect(problems(text)[0]).toMatchObject({ line: lineOf(text, "proxy: 04.2"), path: "ntb.partitions[1].requester_ids[0].proxy" });
    expect(problems(text)[0]!.message).toContain('quote the devfn ("04.2")');
  });

  it("a mapping outside the address width", () => {
    const text = edit("      - name: ntb\n", "      - name: ntb\n        address_width: 39\n").replace("iova: 0x100000000", "iova: 0x7fffff0000");
    const p = problems(text)[0]!;
    expect(p).toMatchObject({ line: lineOf(text, "iova: 0x7fffff0000"), path: "hosts[0].domains[0].mappings[0].size" });
    expect(p.message).toMatch(/^mapping outside the address width: \[0x7fffff0000, 0x80000f0000\) passes the domain's 39-bit space/);
  });

  it("overlapping windows", () => {
    const text = edit("        - { bar: 2, base: 0x90000000, size: 1M, target: 0, xlate: 0x100000000 }", "        - { bar: 2, base: 0x90000000, size: 1M, target: 0, xlate: 0x100000000 }\n        - { bar: 4, base: 0x90080000, size: 1M, target: 0, xlate: 0x100000000 }");
    const p = problems(text)[0]!;
    expect(p.message).toMatch(/^overlapping windows on host 'B': NT window 0 of partition 1 \[0x90000000-0x900fffff\] and NT window 1 of partition 1/);
  });

  it("a window overlapping a BAR", () => {
    const text = edit("  - name: B\n    kernel: \"6.8\"\n", "  - name: B\n    kernel: \"6.8\"\n    bars: [{ bdf: \"02:00.0\", base: 0x900ff000, size: 4K }]\n");
    expect(problems(text)[0]!.message).toContain("overlapping windows on host 'B'");
  });

  it("requester-ID collisions: one RID twice in a table, one proxy for two slots, a proxy that is a real function", () => {
    let text = edit('        - { rid: "00:00.0", proxy: "04.2" }', '        - { rid: "00:00.0", proxy: "04.2" }\n        - { rid: "00:00.0", proxy: "04.3" }');
    expect(problems(text)[0]).toMatchObject({ line: lineOf(text, "04.3"), path: "ntb.partitions[1].requester_ids[1].rid" });
    expect(problems(text)[0]!.message).toMatch(/^requester-ID collision: 00:00.0 is already admitted by slot 0 of partition 1/);
    text = edit('        - { rid: "00:00.0", proxy: "04.2" }', '        - { rid: "00:00.0", proxy: "04.2" }\n        - { rid: "00:01.0", proxy: "04.2" }');
    expect(problems(text)[0]!.message).toMatch(/^requester-ID collision: proxy 04.2 of slot 1 of partition 1 is also the proxy of slot 0 of partition 1/);
    text = edit('proxy: "04.2"', 'proxy: "00.0"');
    expect(problems(text)[0]!.message).toBe("requester-ID collision: proxy 00.0 of slot 0 of partition 1 reaches host 'A' as 03:00.0, which is an existing function there");
  });

  it("two functions at one address", () => {
    const text = edit('      - { bdf: "03:00.1", type: endpoint, id: "11f8:8536", class: "068000" }', '      - { bdf: "03:00.1", type: endpoint, id: "11f8:8536", class: "068000" }\n      - { bdf: "3:0.1", type: endpoint }');
    expect(problems(text).some((p) => p.message === "requester-ID collision: two functions at 0000:03:00.1")).toBe(true);
  });

  it("a VF whose routing ID passes ffff", () => {
    const text = edit(
      "transactions:",
      'transactions:\n  - host: C\n    from: "ff:00.0"\n    vf: 3\n    address: 0\n',
    ).replace(
      "ntb:",
      '  - name: C\n    devices:\n      - { bdf: "00:00.0", type: host-bridge }\n      - { bdf: "ff:00.0", type: endpoint, ari: true, sriov: { total: 8, num: 0, offset: 0xfe, stride: 1 } }\nntb:',
    );
    const p = problems(text)[0]!;
    expect(p).toMatchObject({ line: lineOf(text, "vf: 3"), path: "transactions[0].vf" });
    expect(p.message).toContain("wraps to bus 00, so this configuration is invalid");
  });

  it("a TLP that crosses a 4 KiB boundary", () => {
    const text = edit("    address: 0x90000000\n", "    address: 0x90000fc0\n    size: 128\n");
    expect(problems(text)[0]).toMatchObject({ line: lineOf(text, "size: 128"), path: "transactions[0].size" });
  });

  it("a transaction on a host that does not exist, and one without a host among two", () => {
    expect(problems(edit("  - host: B\n", "  - host: Z\n"))[0]!.message).toBe("no host 'Z'; name one of A, B");
    expect(problems(edit("  - host: B\n", "  - name: x\n"))[0]!.message).toBe("the scenario has 2 hosts: say which one issues it (host:)");
  });

  it("an NT endpoint that is not a Switchtec one", () => {
    const text = edit('      - { bdf: "02:00.1", type: endpoint, id: "11f8:8536", class: "068000" }', '      - { bdf: "02:00.1", type: endpoint, id: "8086:1234", class: "068000" }');
    expect(problems(text)[0]).toMatchObject({ path: "ntb.partitions[1].nt", line: lineOf(text, 'nt: "02:00.1"') });
  });

  it("a table size beyond the listed slots", () => {
    expect(problems(edit('      nt: "02:00.1"\n', '      nt: "02:00.1"\n      table_size: 4\n'))[0]!.message).toMatch(/^table_size 4 is more than the 1 slots listed/);
  });

  it("settings of another IOMMU kind, and domains without an IOMMU", () => {
    expect(problems(edit('  - name: A\n    kernel: "6.8"\n', '  - name: A\n    kernel: "6.8"\n    log_format: amd-segment\n'))[0]!.message).toBe("amd-segment is not a format of this host's IOMMU (vtd)");
    expect(problems(edit('  - name: A\n    kernel: "6.8"\n', '  - name: A\n    kernel: "6.8"\n    iommu: { arch: amd, mode: scalable }\n'))[0]!.path).toBe("hosts[0].iommu.mode");
    expect(problems(edit('  - name: A\n    kernel: "6.8"\n', '  - name: A\n    kernel: "6.8"\n    iommu: { arch: none }\n'))[0]!.message).toMatch(/has no IOMMU \(iommu.arch: none\): domains and attachments need one/);
  });

  it("a phantom request from a function without phantom functions", () => {
    const text = edit("  - host: B\n    from: cpu\n", '  - host: A\n    from: "03:00.1"\n    phantom: 1\n');
    expect(problems(text)[0]).toMatchObject({ path: "transactions[0].phantom", line: lineOf(text, "phantom: 1") });
  });

  it("topology given twice, or not at all", () => {
    expect(problems(edit('  - name: B\n    kernel: "6.8"\n', '  - name: B\n    kernel: "6.8"\n    source: x.tar.gz\n'))[0]!.message).toBe("give the topology either inline (devices:) or as a source:, not both");
  });

  it("an unquoted kernel 5.10 is read as written, not as 5.1", () => {
    const r = loadScenario(edit('  - name: A\n    kernel: "6.8"\n', "  - name: A\n    kernel: 5.10\n"));
    expect(r.ok && formatKernel(r.simulation.hosts[0]!.kernel)).toBe("5.10");
  });

  it("a YAML syntax error", () => {
    expect(problems("hosts: [\n")[0]!.line).toBeGreaterThan(0);
  });
});
