/**
 * Fault lines in every format: the simulator's own lines for every era it
 * writes must read back into the record it printed, and real lines from
 * public reports (fixtures/public-reports.txt, sources noted there) must read.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  AMD_ILLEGAL_DEV_TABLE_ENTRY,
  AMD_IO_PAGE_FAULT,
  SMMU_C_BAD_STREAMID,
  SMMU_F_TRANSLATION,
  VTD_CONTEXT_NOT_PRESENT,
  VTD_READ_NOT_SET,
  VTD_SM_CONTEXT_NOT_PRESENT,
} from "../program/faults.js";
import type { Fault } from "../program/faults.js";
import { LOG_FORMATS, faultLogLines, formatArch, vtdRecord } from "../sim/fault-log.js";
import type { AmdEventRecord, FaultRecord, LogFormat, SmmuEventRecord } from "../sim/fault-log.js";
import { parseFaultLog } from "./parse.js";

const here = path.dirname(fileURLToPath(import.meta.url));

/** a record of each architecture, with rids and addresses that tell fields apart */
function recordsFor(format: LogFormat): { record: FaultRecord; fault: Fault }[] {
  switch (formatArch(format)) {
    case "vtd":
      return [
        { record: vtdRecord("dmar0", 0, 0x0322, 0x100000abc, "write", VTD_CONTEXT_NOT_PRESENT, 0), fault: VTD_CONTEXT_NOT_PRESENT },
        { record: vtdRecord("dmar1", 0x0001, 0xed09, 0xfffd0000, "read", VTD_READ_NOT_SET, 1), fault: VTD_READ_NOT_SET },
        { record: vtdRecord("dmar0", 0, 0x0200, 0x1000, "write", VTD_SM_CONTEXT_NOT_PRESENT, 2), fault: VTD_SM_CONTEXT_NOT_PRESENT },
      ];
    case "amd": {
      const base: AmdEventRecord = { arch: "amd", unit: "ivhd0", segment: 0, code: 2, devid: 0x0322, domainId: 0, address: 0x100000000, flags: 0x20, device: undefined };
      return [
        { record: base, fault: AMD_IO_PAGE_FAULT },
        { record: { ...base, devid: 0x0100, domainId: 0xe, flags: 0, address: 0x7f001000, device: { bdf: "0000:01:00.0", driver: "nvme" } }, fault: AMD_IO_PAGE_FAULT },
        { record: { ...base, segment: 2, devid: 0x0600, code: 1, flags: 0x80 }, fault: AMD_ILLEGAL_DEV_TABLE_ENTRY },
      ];
    }
    case "smmu": {
      const r: SmmuEventRecord = { arch: "smmu", unit: "smmu0", id: 0x10, sid: 0x0322, iova: 0x100000000, access: "write" };
      return [
        { record: r, fault: SMMU_F_TRANSLATION },
        { record: { ...r, id: 0x02, sid: 0x10400, iova: 0x2000, access: "read" }, fault: SMMU_C_BAD_STREAMID },
      ];
    }
    default:
      return [];
  }
}

describe("the simulator's fault lines read back", () => {
  for (const format of LOG_FORMATS) {
    it(format, () => {
      const cases = recordsFor(format);
      expect(cases.length).toBeGreaterThan(0);
      const text = cases.flatMap((c) => faultLogLines(c.record, c.fault, format)).join("\n");
      const { faults, unread } = parseFaultLog(text);
      expect(unread).toEqual([]);
      expect(faults).toHaveLength(cases.length);
      cases.forEach((c, i) => {
        const f = faults[i]!;
        const r = c.record;
        expect(f.arch).toBe(r.arch);
        switch (r.arch) {
          case "vtd":
            expect(f.format).toBe(format);
            expect(f.rid).toBe(r.sid);
            expect(BigInt(f.address!)).toBe(BigInt(r.fi));
            expect(f.access).toBe(r.type);
            expect(f.code).toBe(r.fr);
            expect(f.faultStatus).toBe(r.fsts);
            expect(f.segment).toBe(format === "vtd-segment" ? r.segment : undefined);
            break;
          case "amd":
            expect(f.format).toBe(r.device && c.fault.name === "IO_PAGE_FAULT" ? "amd-device" : format);
            expect(f.rid).toBe(r.devid);
            expect(BigInt(f.address!)).toBe(BigInt(r.address));
            expect(f.reason).toBe(c.fault.name);
            expect(f.code).toBe(c.fault.code);
            expect(f.flags).toBe(r.flags);
            if (c.fault.name === "IO_PAGE_FAULT") {
              expect(f.domain).toBe(r.domainId);
              expect(f.access).toBe(r.flags & 0x20 ? "write" : "read");
            }
            if (format === "amd-segment" || f.format === "amd-device") expect(f.segment).toBe(r.segment);
            break;
          case "smmu":
            expect(f.format).toBe("smmu-raw");
            expect(f.streamId).toBe(r.sid);
            expect(f.rid).toBe(r.sid & 0xffff);
            expect(BigInt(f.address!)).toBe(BigInt(r.iova));
            expect(f.code).toBe(r.id);
            expect(f.reason).toBe(c.fault.name);
            expect(f.access).toBe(r.access);
            break;
        }
      });
    });
  }
});

describe("real fault lines from public reports", () => {
  const text = readFileSync(path.join(here, "fixtures", "public-reports.txt"), "utf8");
  const { faults, unread } = parseFaultLog(text);
  const summary = faults.map((f) => [f.format, f.segment, f.rid.toString(16).padStart(4, "0"), f.address, f.access, f.code, f.reason]);

  it("reads every report, none left over", () => {
    expect(unread).toEqual([]);
    expect(summary).toEqual([
      ["vtd-two-line", undefined, "0010", "0x1a45aa9000", "read", 12, "non-zero reserved fields in PTE"],
      ["vtd-two-line", undefined, "0100", "0x41a6aa000", "read", 1, "Present bit in root entry is clear"],
      ["vtd-pasid", undefined, "0010", "0x9c000000", "read", 6, "PTE Read access is not set"],
      ["vtd-no-pasid", undefined, "0010", "0x70ad5000", "read", 7, "Next page table ptr is invalid"],
      ["vtd-no-pasid", undefined, "0010", "0x7cd80000", "read", 1, "Present bit in root entry is clear"],
      ["vtd-with-pasid", undefined, "6a08", "0x7fe0c9943000", "read", 0x3a, "SM: Non-zero reserved field set in Root Entry"],
      ["vtd-no-pasid", undefined, "0300", "0x100000", "read", 0x71, "SM: Present bit in first-level paging entry is clear"],
      ["amd-padded", undefined, "0500", "0xff6101b0", "write", 2, "IO_PAGE_FAULT"],
      ["amd-padded", undefined, "0001", "0xfdf8000020", undefined, 8, "INVALID_DEVICE_REQUEST"],
      ["amd-device", 0, "0100", "0xfc189000", "read", 2, "IO_PAGE_FAULT"],
      ["amd-device", 0, "0100", "0xcff49550", "write", 2, "IO_PAGE_FAULT"],
      ["smmu-raw", undefined, "0180", "0xffffe040", "write", 0x10, "F_TRANSLATION"],
      ["vtd-pasid", undefined, "ed09", "0xfffd0000", "read", 2, "Present bit in context entry is clear"],
    ]);
  });

  it("keeps the status register, the PASID and the AMD domain", () => {
    expect(faults[1]!.faultStatus).toBe(2);
    expect(faults[5]!.pasid).toBe(2);
    expect(faults[2]!.pasid).toBeUndefined();
    expect(faults[7]!.domain).toBe(0x12);
    expect(faults[9]!.device).toBe("0000:01:00.0");
    expect(faults[12]!.faultStatus).toBe(0x102);
  });

  it("the two-line report keeps both lines and starts at the first", () => {
    expect(faults[0]!.text).toHaveLength(2);
    expect(text.split("\n")[faults[0]!.line - 1]).toContain("Request device [00:02.0]");
  });
});

describe("other forms", () => {
  it("interrupt-remapping faults, old and new", () => {
    const { faults } = parseFaultLog(
      [
        "INTR-REMAP: Request device [[f0:1f.0] fault index 7",
        "INTR-REMAP:[fault reason 34] Present field in the IRTE entry is clear",
        "DMAR: [INTR-REMAP] Request device [0000:f0:1f.0] fault index 0x12 [fault reason 0x25] Blocked a compatibility format interrupt request",
      ].join("\n"),
    );
    expect(faults.map((f) => [f.format, f.kind, f.rid.toString(16), f.faultIndex, f.code, f.segment, f.address])).toEqual([
      ["vtd-intr-remap", "interrupt", "f0f8", 7, 34, undefined, undefined],
      ["vtd-intr-remap", "interrupt", "f0f8", 0x12, 0x25, 0, undefined],
    ]);
  });

  it("the decoded SMMUv3 event and quoted, CRLF pastes", () => {
    const { faults } = parseFaultLog(
      "> [ 12.5] arm-smmu-v3 arm-smmu-v3.0.auto: event: F_TRANSLATION client: 0000:01:00.0 sid: 0x100 ssid: 0x0 iova: 0x8000 ipa: 0x0\r\n> [ 12.5] arm-smmu-v3 arm-smmu-v3.0.auto: unpriv data write s1 \"Input address caused fault\" stag: 0x0\r\n",
    );
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatchObject({ format: "smmu-decoded", rid: 0x100, streamId: 0x100, address: "0x8000", access: "write", code: 0x10, device: "0000:01:00.0", segment: 0 });
  });

  it("a line that names a fault but cannot be read is reported, not guessed", () => {
    const r = parseFaultLog("DMAR: [DMA Read NO_PASID] Request device [zz:02.0] fault addr 0x1000\nunrelated line\n");
    expect(r.faults).toEqual([]);
    expect(r.unread).toEqual([{ line: 1, text: "DMAR: [DMA Read NO_PASID] Request device [zz:02.0] fault addr 0x1000" }]);
  });
});
