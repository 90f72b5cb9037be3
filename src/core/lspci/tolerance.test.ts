import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeArchive } from "../../cli/sysfs/archive.js";
import { snapshotFromSysfs } from "../sources/from-sysfs.js";
import type { Snapshot } from "../sources/snapshot.js";
import { looksLikeLspci, snapshotFromLspci } from "./index.js";
import type { LspciResult } from "./index.js";
import { formatLspciWarning } from "./messages.js";
import { projectSnapshot } from "./project.js";

const here = path.dirname(new URL(import.meta.url).pathname);
const fixture = (dir: string, name: string): string => readFileSync(path.join(here, "fixtures", dir, name), "utf8");
const vvv = fixture("oracle", "nested-switches.lspci-vvvnn.txt");
const acsCase = fixture("oracle", "mf-rootports-acs-amd.lspci-vvvnn.txt");

function read(text: string): Extract<LspciResult, { ok: true }> {
  const r = snapshotFromLspci(text);
  if (!r.ok) throw new Error(`line ${r.line}: ${r.reason}`);
  return r;
}
const model = (s: Snapshot): unknown => projectSnapshot(s, { groups: true });
const codes = (r: { warnings: readonly { code: string }[] }): string[] => r.warnings.map((w) => w.code);
const baseline = model(read(vvv).snapshot);
const mapLines = (text: string, f: (line: string) => string): string => text.split("\n").map(f).join("\n");

describe("pasted text reads like the original", () => {
  it.each([
    ["quote markers", (t: string) => mapLines(t, (l) => `> ${l}`)],
    ["nested quote markers", (t: string) => mapLines(t, (l) => `>> ${l}`)],
    ["CRLF line ends", (t: string) => t.replace(/\n/g, "\r\n")],
    ["tabs as 8 spaces", (t: string) => t.replace(/\t/g, "        ")],
    ["tabs as 2 spaces", (t: string) => t.replace(/\t/g, "  ")],
    ["a 4-space markdown code block", (t: string) => mapLines(t, (l) => `    ${l}`)],
    ["indentation lost", (t: string) => mapLines(t, (l) => l.trimStart())],
    ["trailing spaces", (t: string) => mapLines(t, (l) => `${l}   `)],
    ["no-break spaces from a web page", (t: string) => t.replace(/\t/g, "\u00a0\u00a0\u00a0\u00a0").replace(/: /g, ":\u00a0")],
    ["lines wrapped at 80 columns", (t: string) => mapLines(t, (l) => (l.match(/.{1,80}/g) ?? [""]).join("\n"))],
  ])("%s", (_, change) => {
    expect(model(read(change(vvv)).snapshot)).toEqual(baseline);
  });

  it("prose and code fences around the dump", () => {
    const r = read(`Hi all, here is my output:\n\n\`\`\`\n$ sudo lspci -vvvnn\n${vvv}\`\`\`\n\nAny idea why group 3 is so big?\n`);
    expect(model(r.snapshot)).toEqual(baseline);
    expect(r.dumps).toBe(1);
    expect(r.warnings).toContainEqual({ code: "text-skipped", lines: 4, first: 1 });
  });

  it("stderr lines inside a block (pcilib / lspci messages) are skipped", () => {
    const noisy = vvv.replace("\tIOMMU group: 1\n", "\tIOMMU group: 1\npcilib: Error reading /sys/bus/pci/devices/0000:00:02.0/label: Operation not permitted\n");
    const r = read(`lspci: Unable to load libkmod resources: error -2\n${noisy}`);
    expect(model(r.snapshot)).toEqual(baseline);
    expect(r.dumps).toBe(1);
  });
});

describe("several dumps in one file", () => {
  it("the same run twice behind prompts: two dumps, one machine", () => {
    const r = read(`user@host:~$ lspci -vvvnn\n${vvv}\nuser@host:~$ sudo lspci -vvvnn\n${vvv}`);
    expect(r.dumps).toBe(2);
    expect(model(r.snapshot)).toEqual(baseline);
    expect(codes(r)).toContain("several-dumps");
    expect(formatLspciWarning(r.warnings[0]!)).toMatch(/2 lspci runs/);
  });

  it("a listing then a verbose run without a prompt: a repeated BDF starts the second dump, the richer one wins", () => {
    const r = read(`${fixture("forms", "nested-switches.lspci-nnk.txt")}${vvv}`);
    expect(r.dumps).toBe(2);
    expect(model(r.snapshot)).toEqual(baseline);
  });

  it("two machines pasted together are flagged", () => {
    const other = vvv.replace("0000:00:1f.0 ISA bridge [0601]: Intel Corporation 82801IB (ICH9) LPC Interface Controller [8086:2918]", "0000:00:1f.0 ISA bridge [0601]: Intel Corporation Something else [8086:1234]");
    const r = read(`${vvv}\n${other}`);
    expect(r.warnings).toContainEqual(expect.objectContaining({ code: "dumps-disagree", bdf: "0000:00:1f.0", field: "device" }));
    expect(r.snapshot.topology.functions.get("0000:00:1f.0")?.device).toBe(0x2918);
  });

  it("-vvnnxxx (text and 256 hex bytes per function): bytes for the header, text for the extended capabilities", () => {
    const r = read(fixture("forms", "nested-switches.lspci-vvnnxxx.txt"));
    expect(r.format).toBe("mixed");
    const rp = r.snapshot.topology.functions.get("0000:00:02.0")!;
    expect(rp.config?.known).toBe(256);
    expect(rp.acs).toEqual({ state: "present", offset: 0x148, cap: 0x5f, ctrl: 0x1d });
    expect(projectSnapshot(r.snapshot)).toEqual(projectSnapshot(read(vvv).snapshot));
  });
});

describe("cut text leaves what it lost unknown", () => {
  const acsPort = (text: string): { bdf: string; at: number } => {
    const at = text.lastIndexOf("\t\tACSCtl:");
    const header = text.lastIndexOf("\n0000:", at);
    return { bdf: text.slice(header + 1, header + 13), at };
  };

  it("cut before ACSCtl: the port's ACS is unknown", () => {
    const { bdf, at } = acsPort(acsCase);
    const r = read(acsCase.slice(0, at));
    const f = r.snapshot.topology.functions.get(bdf)!;
    expect(f.acs.state).toBe("unknown");
    expect(r.warnings).toContainEqual(expect.objectContaining({ code: "registers-cut", bdf, capability: "acs" }));
  });

  it("cut inside the ACSCtl line: unknown too", () => {
    const { bdf, at } = acsPort(acsCase);
    const r = read(acsCase.slice(0, at + 30));
    expect(r.snapshot.topology.functions.get(bdf)!.acs.state).toBe("unknown");
  });

  it("an ACSCtl line wrapped onto a flush-left line is joined", () => {
    const { bdf } = acsPort(acsCase);
    const wrapped = acsCase.replace(/(\t\tACSCtl:\tSrcValid[+-] TransBlk[+-] )/g, "$1\n");
    const r = read(wrapped);
    expect(r.snapshot.topology.functions.get(bdf)!.acs).toEqual(read(acsCase).snapshot.topology.functions.get(bdf)!.acs);
  });

  it("an Express header cut before its type: ACS unknown, not absent", () => {
    const cutAt = vvv.indexOf("Express (v2) Root Port");
    const r = read(`${vvv.slice(0, cutAt + "Express (v2) Ro".length)}\n`);
    const rp = r.snapshot.topology.functions.get("0000:00:02.0")!;
    expect(rp.acs.state).toBe("unknown");
    expect(r.warnings).toContainEqual(expect.objectContaining({ code: "registers-cut", bdf: "0000:00:02.0", capability: "express" }));
  });

  it("text that stops inside the last block leaves that function's ACS unknown; a closing blank line settles it", () => {
    const end = vvv.indexOf("\n\n0000:07:00.1");
    const cut = read(vvv.slice(0, end + 1));
    expect(cut.snapshot.topology.functions.get("0000:07:00.0")?.acs.state).toBe("unknown");
    expect(codes(cut)).toContain("text-ends-in-block");
    const whole = read(vvv.slice(0, end + 2));
    expect(whole.snapshot.topology.functions.get("0000:07:00.0")?.acs.state).toBe("absent");
  });

  it("a device line wrapped before its ids", () => {
    const r = read(vvv.replace("Controller [8086:29c0]", "Controller\n[8086:29c0]"));
    expect(model(r.snapshot)).toEqual(baseline);
  });

  it("a hex dump with a missing line stops at the gap", () => {
    const hex = fixture("oracle", "pcie-ep-behind-pcie-pci-bridge.lspci-xxxx.txt");
    const lines = hex.split("\n");
    const drop = lines.findIndex((l) => l.startsWith("50: "));
    const r = read([...lines.slice(0, drop), ...lines.slice(drop + 1)].join("\n"));
    expect(r.snapshot.topology.functions.get("0000:00:00.0")?.config?.known).toBe(0x50);
    expect(r.warnings).toContainEqual({ code: "hex-gap", bdf: "0000:00:00.0", line: 1, offset: 0x50 });
  });
});

describe("small forms written here", () => {
  it("ls-iommu script lines carry the group", () => {
    const r = read(
      [
        "IOMMU Group 1:",
        "\t00:01.0 PCI bridge [0604]: Intel Corporation Xeon E3-1200 v5/E3-1500 v5/6th Gen Core Processor PCIe Controller (x16) [8086:1901] (rev 07)",
        "\t01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GP104 [GeForce GTX 1070] [10de:1b81] (rev a1)",
        "\t01:00.1 Audio device [0403]: NVIDIA Corporation GP104 High Definition Audio Controller [10de:10f0] (rev a1)",
        "IOMMU Group 2 00:14.0 USB controller [0c03]: Intel Corporation 100 Series/C230 Series Chipset Family USB 3.0 xHCI Controller [8086:a12f] (rev 31)",
      ].join("\n"),
    );
    expect([...r.snapshot.kernelGroups!.entries()]).toEqual([
      [1, ["0000:00:01.0", "0000:01:00.0", "0000:01:00.1"]],
      [2, ["0000:00:14.0"]],
    ]);
    expect(r.snapshot.topology.functions.get("0000:01:00.0")?.multifunction).toBe(true);
  });

  it("-nnk driver lines", () => {
    const r = read("01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GP104 [10de:1b81] (rev a1)\n\tSubsystem: ASUSTeK Computer Inc. Device [1043:8599]\n\tKernel driver in use: vfio-pci\n\tKernel modules: nouveau\n");
    expect(r.snapshot.topology.functions.get("0000:01:00.0")).toMatchObject({ driver: "vfio-pci", vendor: 0x10de, device: 0x1b81, revision: 0xa1, subsystemVendor: 0x1043 });
  });

  it("-n numeric lines and class names without ids", () => {
    const r = read("00:02.0 0604: 1b36:000c\n00:1f.2 0106: 8086:2922 (rev 02)\n00:03.0 Ethernet controller: Intel Corporation 82574L\n");
    const f = (b: string) => r.snapshot.topology.functions.get(b)!;
    expect([f("0000:00:02.0").classCode, f("0000:00:02.0").vendor, f("0000:00:02.0").headerType]).toEqual([0x060400, 0x1b36, 1]);
    expect([f("0000:00:03.0").classCode, f("0000:00:03.0").vendor]).toEqual([0x020000, 0xffff]);
    expect(codes(r)).toEqual(expect.arrayContaining(["ids-unknown", "bridge-buses-unknown", "capabilities-not-shown"]));
  });

  const sriovPf = (numVfs: number, extra = ""): string =>
    [
      "03:00.0 Ethernet controller [0200]: Intel Corporation 82576 Gigabit Network Connection [8086:10c9] (rev 01)",
      "\tStatus: Cap+ 66MHz- UDF- FastB2B- ParErr- DEVSEL=fast >TAbort- <TAbort- <MAbort- >SERR- <PERR- INTx-",
      "\tCapabilities: [a0] Express (v2) Endpoint, MSI 00",
      "\t\tDevCap:\tMaxPayload 512 bytes, PhantFunc 0, Latency L0s <512ns, L1 <64us",
      "\t\t\tExtTag- AttnBtn- AttnInd- PwrInd- RBE+ FLReset+ SlotPowerLimit 0.000W",
      "\tCapabilities: [150 v1] Alternative Routing-ID Interpretation (ARI)",
      "\t\tARICap:\tMFVC- ACS-, Next Function: 1",
      "\t\tARICtl:\tMFVC- ACS-, Function Group: 0",
      "\tCapabilities: [160 v1] Single Root I/O Virtualization (SR-IOV)",
      "\t\tIOVCap:\tMigration-, Interrupt Message Number: 000",
      `\t\tIOVCtl:\tEnable${numVfs > 0 ? "+" : "-"} Migration- Interrupt- MSE${numVfs > 0 ? "+" : "-"} ARIHierarchy-`,
      "\t\tIOVSta:\tMigration-",
      `\t\tInitial VFs: 8, Total VFs: 8, Number of VFs: ${numVfs}, Function Dependency Link: 00`,
      "\t\tVF offset: 128, stride: 2, Device ID: 10ca",
      "",
      extra,
    ].join("\n");

  it("SR-IOV: enabled VFs are predicted from the PF's numbers, and a listed VF does not make a slot multi-function", () => {
    const r = read(sriovPf(2));
    const t = r.snapshot.topology;
    const pf = t.functions.get("0000:03:00.0")!;
    expect(pf.config?.sriov).toMatchObject({ vfEnable: true, numVFs: 2, firstVfOffset: 128, vfStride: 2, vfDeviceId: 0x10ca });
    expect(pf.config?.ari?.nextFunction).toBe(1);
    expect(pf.phantomFunctions).toBe(0);
    expect(t.functions.get("0000:03:10.0")).toMatchObject({ isVirtfn: true, predicted: true, device: 0x10ca });
    const listed = read(sriovPf(2, "03:10.2 Ethernet controller [0200]: Intel Corporation 82576 Virtual Function [8086:10ca] (rev 01)\n"));
    expect(listed.snapshot.topology.functions.get("0000:03:10.2")).toMatchObject({ isVirtfn: true, predicted: false, physfn: "0000:03:00.0" });
    expect(listed.snapshot.topology.functions.get("0000:03:10.0")?.multifunction).toBe(false);
  });

  it("DevCap PhantFunc and DevCtl2 ARIFwd", () => {
    const r = read(
      [
        "00:1c.0 PCI bridge [0604]: Intel Corporation Device [8086:a110] (rev f1)",
        "\tBus: primary=00, secondary=02, subordinate=02, sec-latency=0",
        "\tCapabilities: [40] Express (v2) Root Port (Slot+), MSI 00",
        "\t\tDevCap:\tMaxPayload 256 bytes, PhantFunc 0",
        "\t\tSltCap:\tAttnBtn- PwrCtrl- MRL- AttnInd- PwrInd- HotPlug- Surprise-",
        "\t\t\tSlot #4, PowerLimit 25.000W; Interlock- NoCompl+",
        "\t\tDevCap2: Completion Timeout: Range ABC, TimeoutDis+ NROPrPrP- LTR+",
        "\t\t\t 10BitTagComp- 10BitTagReq- OBFF Not Supported, ExtFmt- EETLPPrefix-",
        "\t\t\t FRS- LN System CLS Not Supported, TPHComp- ExtTPHComp- ARIFwd+",
        "\t\tDevCtl2: Completion Timeout: 50us to 50ms, TimeoutDis- LTR+ 10BitTagReq- OBFF Disabled, ARIFwd+",
        "\tCapabilities: [100 v1] Advanced Error Reporting",
        "",
        "02:00.0 Non-Volatile memory controller [0108]: Some Vendor Device [1234:5678] (prog-if 02 [NVM Express])",
        "\tCapabilities: [70] Express (v2) Endpoint, MSI 00",
        "\t\tDevCap:\tMaxPayload 128 bytes, PhantFunc 3, Latency L0s <1us, L1 unlimited",
        "\t\t\tExtTag+ AttnBtn- AttnInd- PwrInd- RBE+ FLReset+ SlotPowerLimit 0.000W",
        "\t\tDevCtl:\tCorrErr- NonFatalErr- FatalErr- UnsupReq-",
        "\t\t\tRlxdOrd+ ExtTag+ PhantFunc+ AuxPwr- NoSnoop+ FLReset-",
      ].join("\n"),
    );
    const rp = r.snapshot.topology.functions.get("0000:00:1c.0")!;
    expect(rp.config?.express).toMatchObject({ ariForwardingSupported: true, ariForwardingEnabled: true, physicalSlot: 4, slotImplemented: true, version: 2 });
    expect(r.snapshot.topology.buses.get("0000:02")?.ari).toBe(true);
    const ep = r.snapshot.topology.functions.get("0000:02:00.0")!;
    expect(ep.phantomFunctions).toBe(2);
    expect(ep.config?.express).toMatchObject({ phantomEnabled: true, flr: true });
    expect(ep.classCode).toBe(0x010802);
    expect(rp.acs.state).toBe("absent");
  });

  it("trees: empty secondary buses, single children, old trees without a domain", () => {
    const r = read(["-[0000:00]-+-00.0", "           +-1c.0-[02]--", "           +-1c.4-[03-04]----00.0-[04]--", "           \\-1f.0"].join("\n"));
    const f = (b: string) => r.snapshot.topology.functions.get(b)!;
    expect([f("0000:00:1c.0").secondary, f("0000:00:1c.0").subordinate]).toEqual([2, 2]);
    expect([f("0000:03:00.0").upstream, f("0000:03:00.0").secondary]).toEqual(["0000:00:1c.4", 4]);
    expect(f("0000:00:1f.0").bus).toBe(0);
    expect(r.snapshot.topology.buses.get("0000:02")?.self).toBe("0000:00:1c.0");
    const old = read(["-[00]-+-00.0", "      \\-01.0-[01]----00.0"].join("\n"));
    expect(old.snapshot.topology.functions.get("0000:01:00.0")?.upstream).toBe("0000:00:01.0");
  });

  it("unknown header type (corpus 09) keeps the value and an issue", () => {
    const r = read(fixture("corpus", "09-threadripper-trx40-taichi-nonroot.txt"));
    const phi = r.snapshot.topology.functions.get("0000:01:00.0")!;
    expect(phi.headerType).toBe(0x7f);
    expect(phi.issues).toContainEqual({ code: "header-type-unknown", offset: 0x0e, headerType: 0x7f });
  });
});

describe("not lspci output", () => {
  it.each([
    ["prose", "\n\nHello there,\nmy GPU does not pass through.\n", 3, "Hello there,"],
    ["JSON", '{"devices": []}\n', 1, '{"devices": []}'],
    ["a hex dump without its device line", "00: 86 80 c0 29 03 01 00 00 00 00 00 06 00 00 00 00\n", 1, "00: 86 80 c0 29 03 01 00 00 00 00 00 06 00 00 00 00"],
    ["gzip bytes read as text", "\u001f\u008b\b\u0000\u0000\u0000\u0000\u0000\u0000\u0003", 1, "\u001f\u008b\b\u0000\u0000\u0000\u0000\u0000\u0000\u0003"],
  ])("%s: the first line that did not fit", (_, text, line, first) => {
    const r = snapshotFromLspci(text);
    expect(r).toMatchObject({ ok: false, line, text: first });
    expect(looksLikeLspci(text)).toBe(false);
  });

  it("empty input", () => {
    expect(snapshotFromLspci(" \n\n")).toMatchObject({ ok: false, line: 1, text: "" });
  });

  it("content detection finds every form", () => {
    for (const name of ["nested-switches.lspci-t.txt", "nested-switches.lspci-nnmm.txt", "nested-switches.lspci-nnvmm.txt", "nested-switches.lspci-x.txt", "nested-switches.lspci-P-nn.txt"]) {
      expect(looksLikeLspci(fixture("forms", name)), name).toBe(true);
    }
    expect(looksLikeLspci(mapLines(vvv, (l) => `> ${l}`))).toBe(true);
    expect(looksLikeLspci(`some words first\n${vvv}`)).toBe(true);
  });
});

describe("hostile input never throws", () => {
  it("random text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (t) => {
        const r = snapshotFromLspci(t);
        expect(typeof r.ok).toBe("boolean");
      }),
    );
  });

  it("a real dump with random lines dropped, duplicated or cut", () => {
    const lines = acsCase.split("\n");
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(lines.length - 1), fc.constantFrom("drop", "dup", "cut")), { maxLength: 40 }), (edits) => {
        const out = [...lines];
        for (const [i, op] of edits) {
          if (i >= out.length) continue;
          if (op === "drop") out.splice(i, 1);
          else if (op === "dup") out.splice(i, 0, out[i]!);
          else out[i] = out[i]!.slice(0, out[i]!.length >> 1);
        }
        const r = snapshotFromLspci(out.join("\n"));
        expect(r.ok).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

describe("a binary capture of the same machine", () => {
  it("non-root text never claims ACS absent where the capture shows it present", () => {
    const file = path.join(here, "fixtures", "oracle", "nested-switches.sysfs.tar.gz");
    const bin = snapshotFromSysfs(decodeArchive(new Uint8Array(readFileSync(file)), file));
    const text = read(fixture("forms", "nested-switches-nonroot.lspci-vvnn.txt")).snapshot;
    for (const f of bin.topology.functions.values()) {
      const t = text.topology.functions.get(f.bdf)!;
      if (f.acs.state !== "absent") expect(t.acs.state, f.bdf).not.toBe("absent");
    }
  });
});
