/**
 * Forum pastes cut down by hand: corpus dumps trimmed to a few lines per
 * device (device line, bus numbers, the Express header, the ACS, ARI and
 * SR-IOV blocks, the group) must give the same groups as the whole file.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { predict } from "../iommu/predict.js";
import type { Snapshot } from "../sources/snapshot.js";
import { lspciCorpusFiles } from "../testing/corpus-files.js";
import { snapshotFromLspci } from "./index.js";

const files = lspciCorpusFiles();

const DEVICE = /^(?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7] /;
/** capability blocks kept whole; every other block keeps its header only when `headers` */
const KEEP_BLOCKS = /Capabilities: \[[0-9a-f]+(?: v\d+)?\] (?:Access Control Services|Alternative Routing-ID|Single Root I\/O Virtualization)/;

/**
 * Keeps what people keep: the device line, `Bus:`, the Express header
 * (`headers`: every capability header) and the ACS/ARI/SR-IOV blocks, the
 * driver and group lines; drops the rest, blank lines between devices stay.
 */
export function trimPaste(text: string, opts: { headers: boolean; keepExpressDevCap?: boolean }): string {
  const out: string[] = [];
  let keepBlock = false;
  let expressLines = 0;
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (DEVICE.test(line) || t === "") {
      keepBlock = false;
      out.push(line);
      continue;
    }
    if (t.startsWith("Capabilities:")) {
      keepBlock = KEEP_BLOCKS.test(t);
      expressLines = / Express \(/.test(t) ? 1 : 0;
      if (keepBlock || expressLines || opts.headers) out.push(line);
      continue;
    }
    if (keepBlock || t.startsWith("Bus: primary=") || t.startsWith("IOMMU group:") || t.startsWith("Kernel driver in use:")) {
      out.push(line);
      continue;
    }
    if (expressLines && opts.keepExpressDevCap && t.startsWith("DevCap:")) {
      out.push(line);
      expressLines = 0;
    }
  }
  return out.join("\n");
}

function groupsOf(s: Snapshot): string[][] {
  return predict(s).groups.groups.map((g) => [...g.members].sort());
}

describe("hand-trimmed pastes", () => {
  it("the trim really drops lines", () => {
    const text = readFileSync(files[0]!, "utf8");
    expect(trimPaste(text, { headers: false }).split("\n").length).toBeLessThan(text.split("\n").length / 3);
  });

  for (const opts of [{ headers: false }, { headers: true }, { headers: false, keepExpressDevCap: true }]) {
    it.each(files.map((f) => [path.basename(f), f]))(`%s trimmed (${JSON.stringify(opts)}): the same groups and ACS as the whole file`, (_n, file) => {
      const text = readFileSync(file, "utf8");
      const whole = snapshotFromLspci(text);
      const cut = snapshotFromLspci(trimPaste(text, opts));
      if (!whole.ok || !cut.ok) throw new Error("unreadable");
      const acs = (s: Snapshot) => [...s.topology.functions.values()].filter((f) => f.bridgeKind === "root-port" || f.bridgeKind === "downstream-port").map((f) => `${f.bdf} ${f.acs.state}`);
      const before = acs(whole.snapshot);
      const after = acs(cut.snapshot);
      // a port with an ACS block keeps it; one without may only turn unknown, when no extended capability is left anywhere to show it was read
      const lost = after.filter((a, i) => a !== before[i]);
      for (const a of lost) {
        expect(a.endsWith(" unknown")).toBe(true);
        expect(before[after.indexOf(a)]!.endsWith(" absent")).toBe(true);
        expect(cut.warnings.some((w) => w.code === "extended-not-shown")).toBe(true);
      }
      if (opts.headers) expect(lost).toEqual([]);
      if (lost.length === 0) expect(groupsOf(cut.snapshot)).toEqual(groupsOf(whole.snapshot));
    });
  }
});

describe("what a trimmed block still tells", () => {
  const head = [
    "00:1c.0 PCI bridge [0604]: Intel Corporation Device [8086:a110]",
    "\tBus: primary=00, secondary=01, subordinate=01, sec-latency=0",
    "\tCapabilities: [40] Express (v2) Root Port (Slot+), MSI 00",
    "\t\tDevCap:\tMaxPayload 256 bytes, PhantFunc 0",
  ];
  const acsBlock = ["\tCapabilities: [220 v1] Access Control Services", "\t\tACSCap:\tSrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-", "\t\tACSCtl:\tSrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-"];
  const child = ["", "01:00.0 Ethernet controller [0200]: Intel Corporation I210 Gigabit Network Connection [8086:1533]", "\tCapabilities: [a0] Express (v2) Endpoint, MSI 00", ""];
  const port = (text: string) => {
    const r = snapshotFromLspci(text);
    if (!r.ok) throw new Error(r.reason);
    return r.snapshot.topology.functions.get("0000:00:1c.0")!;
  };

  it("an ACS block with both registers: known, though the Express block and the [100] capability were cut", () => {
    expect(port([...head, ...acsBlock, ...child].join("\n")).acs).toMatchObject({ state: "present", ctrl: 0x1d });
  });

  it("an ACS header whose registers were cut: unknown", () => {
    expect(port([...head, acsBlock[0]!, ...child].join("\n")).acs.state).toBe("unknown");
  });

  it("no ACS block and no extended capability anywhere: unknown (the ACS block may have been cut)", () => {
    expect(port([...head, ...child].join("\n")).acs.state).toBe("unknown");
  });
});
