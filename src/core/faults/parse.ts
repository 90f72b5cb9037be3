/**
 * Reads the lines Linux prints for IOMMU faults, in every format the kernel
 * has used (hw-models.md §2.4 VT-d, §3.3 AMD-Vi, §4 SMMUv3), out of a pasted
 * dmesg excerpt: timestamps, syslog prefixes, quote markers and unrelated
 * lines around them are skipped.
 *
 * Formats and the eras they are named after (the simulator's LogFormat names
 * where the simulator writes that format):
 * - VT-d DMA faults: `DMAR:[DMA Read] Request device [bb:dd.f] fault addr A`
 *   with `DMAR:[fault reason NN] …` on the next line (vtd-two-line); one line
 *   with the decimal reason (vtd-one-line); with `PASID ffffffff`
 *   (vtd-pasid); `[DMA Read NO_PASID]` and 0x numbers, the device sometimes
 *   as `[0x00:0x02.0]` (vtd-no-pasid); `[DMA Read PASID 0x2]`
 *   (vtd-with-pasid); the device with its segment (vtd-segment).
 * - VT-d interrupt-remapping faults: `[INTR-REMAP] Request device [..] fault
 *   index N [fault reason NN] …`, and the old two-line `INTR-REMAP: Request
 *   device [[..] fault index N` form (vtd-intr-remap).
 * - AMD-Vi: `AMD-Vi: Event logged [IO_PAGE_FAULT device=bb:dd.f domain=…
 *   address=0x%016llx flags=…]` (amd-padded; old kernels broke the line
 *   after `[`), `address=0x%llx` (amd-no-segment), `device=ssss:bb:dd.f`
 *   (amd-segment), and the form printed against a known device,
 *   `<driver> ssss:bb:dd.f: AMD-Vi: Event logged [IO_PAGE_FAULT domain=…]`
 *   (amd-device). Other events (ILLEGAL_DEV_TABLE_ENTRY,
 *   INVALID_DEVICE_REQUEST …) are read the same way.
 * - SMMUv3: `event 0x10 received:` and its four raw event words (smmu-raw),
 *   or the decoded `event: F_TRANSLATION client: … sid: 0x… iova: 0x…`
 *   (smmu-decoded).
 */

export type FaultArch = "vtd" | "amd" | "smmu";

export const FAULT_LINE_FORMATS = [
  "vtd-two-line",
  "vtd-one-line",
  "vtd-pasid",
  "vtd-no-pasid",
  "vtd-with-pasid",
  "vtd-segment",
  "vtd-intr-remap",
  "amd-padded",
  "amd-no-segment",
  "amd-segment",
  "amd-device",
  "smmu-raw",
  "smmu-decoded",
] as const;
export type FaultLineFormat = (typeof FAULT_LINE_FORMATS)[number];

/** one fault as the kernel reported it */
export interface ParsedFault {
  /** 1-based line of the input where the report starts */
  readonly line: number;
  /** the report's lines, without what preceded the kernel's text */
  readonly text: readonly string[];
  readonly arch: FaultArch;
  readonly format: FaultLineFormat;
  /** the PCI segment when the line prints one */
  readonly segment: number | undefined;
  /** the 16-bit requester ID (SMMUv3: the StreamID's low 16 bits) */
  readonly rid: number;
  /** SMMUv3: the StreamID as printed */
  readonly streamId?: number | undefined;
  /** the faulting address, hex with 0x; undefined for interrupt faults */
  readonly address: string | undefined;
  readonly access: "read" | "write" | undefined;
  /** VT-d fault reason / AMD event code / SMMUv3 event id, when printed */
  readonly code: number | undefined;
  /** the reason text (VT-d) or event name (AMD-Vi, SMMUv3) */
  readonly reason: string | undefined;
  /** VT-d: `DMA`, `INTR-REMAP` */
  readonly kind: "dma" | "interrupt" | "event";
  readonly pasid?: number | undefined;
  /** AMD-Vi: the DTE's domain id */
  readonly domain?: number | undefined;
  /** AMD-Vi: event flags */
  readonly flags?: number | undefined;
  /** VT-d interrupt faults: the IRTE index */
  readonly faultIndex?: number | undefined;
  /** the device the line is printed against (AMD-Vi `<driver> 0000:03:00.0:`, SMMUv3 `client:`), when it names a PCI function */
  readonly device?: string | undefined;
  /** VT-d: the DRHD status register printed just before */
  readonly faultStatus?: number | undefined;
}

export interface FaultLogParse {
  readonly faults: ParsedFault[];
  /** lines that look like an IOMMU fault report but could not be read */
  readonly unread: { readonly line: number; readonly text: string }[];
}

const VTD_HEAD =
  /(?:\[(DMA Read|DMA Write|INTR-REMAP|Page Request)(?: (NO_PASID|PASID (?:0x)?([0-9a-fA-F]+)))?\]|(INTR-REMAP):) ?Request device \[\[?(?:(?:0x)?([0-9a-fA-F]{4,8}):)?(0x)?([0-9a-fA-F]{1,2}):(?:0x)?([0-9a-fA-F]{1,2})\.([0-7])\]/;
const VTD_REASON = /\[fault reason (0x)?([0-9a-fA-F]+)\]\s*(.*)$/;
const FAULT_STATUS = /DRHD: handling fault status reg ([0-9a-fA-F]+)/;
const AMD_EVENT = /AMD-Vi: Event logged \[/;
const SMMU_RAW = /event (0x[0-9a-fA-F]+) received:?\s*$/;
const SMMU_DECODED = /event: (\S+) client: (\S+) sid: (0x[0-9a-fA-F]+|\d+) ssid: (0x[0-9a-fA-F]+|\d+) iova: (0x[0-9a-fA-F]+)/;
const SMMU_WORD = /(?:^|:\s+|\s)(?:0x)?([0-9a-fA-F]{8}) ?([0-9a-fA-F]{8})\s*$/;
const PCI_NAME = /(?:^|\s)([0-9a-fA-F]{4,8}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])(?=:?\s|:?$)/;

const hex = (s: string): number => parseInt(s, 16);
const hexAddress = (s: string): string => `0x${BigInt(`0x${s.replace(/^0x/i, "")}`).toString(16)}`;
const rid = (bus: number, slot: number, fn: number): number => ((bus & 0xff) << 8) | ((slot & 0x1f) << 3) | (fn & 7);

/** the line without quote markers, CR and a leading timestamp */
function clean(raw: string): string {
  let s = raw.replace(/\r$/, "").replace(/\u00a0/g, " ");
  s = s.replace(/^(?:\s*>)+\s?/, "");
  return s;
}

/** the kernel's text of a line: after `[  12.345]` and syslog/journal prefixes */
function kernelText(s: string): string {
  const ts = /\[\s*\d+\.\d+\]\s*/.exec(s);
  if (ts) return s.slice(ts.index + ts[0].length).replace(/^kernel:\s*/, "");
  return s.replace(/^.*?\bkernel:\s*/, "").trimStart();
}

/**
 * Every IOMMU fault report in the text, in input order. Never throws; lines
 * that name an IOMMU fault but fit no known format are listed in `unread`.
 */
export function parseFaultLog(text: string): FaultLogParse {
  const lines = text.split("\n").map(clean);
  const faults: ParsedFault[] = [];
  const unread: { line: number; text: string }[] = [];
  let status: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i]!;
    if (s.trim().length === 0) continue;
    const st = FAULT_STATUS.exec(s);
    if (st) {
      status = hex(st[1]!);
      continue;
    }
    const k = kernelText(s);
    let used = 0;
    let fault: ParsedFault | undefined;
    if (VTD_HEAD.test(k)) [fault, used] = readVtd(lines, i, k, status);
    else if (AMD_EVENT.test(k)) [fault, used] = readAmd(lines, i, k);
    else if (SMMU_RAW.test(k) && /smmu/i.test(k)) [fault, used] = readSmmuRaw(lines, i, k);
    else if (SMMU_DECODED.test(k)) [fault, used] = readSmmuDecoded(lines, i, k);
    else if (/\bIO_PAGE_FAULT\b|\bRequest device \[|\bfault addr\b/.test(k) && !/^\s*(?:DMAR:)?\s*\[fault reason/.test(k.replace(/^\S+:\s*/, ""))) {
      unread.push({ line: i + 1, text: s.trim() });
      continue;
    } else continue;
    if (!fault) {
      unread.push({ line: i + 1, text: s.trim() });
      continue;
    }
    faults.push(fault);
    if (fault.arch === "vtd") status = undefined;
    i += used;
  }
  return { faults, unread };
}

/** VT-d: returns the fault and how many further lines it took */
function readVtd(lines: readonly string[], i: number, k: string, status: number | undefined): [ParsedFault | undefined, number] {
  const m = VTD_HEAD.exec(k)!;
  const kindText = m[1] ?? m[4]!;
  const interrupt = kindText === "INTR-REMAP";
  const tag = m[2];
  const segment = m[5] !== undefined ? hex(m[5]) : undefined;
  const r = rid(hex(m[7]!), hex(m[8]!), Number(m[9]));
  let rest = k.slice(m.index + m[0].length);
  const text = [k.slice(m.index).trim()];
  let oldPasid: number | undefined;
  const pp = /^\s*PASID ([0-9a-fA-F]+)/.exec(rest);
  if (pp) {
    oldPasid = hex(pp[1]!);
    rest = rest.slice(pp[0].length);
  }
  let address: string | undefined;
  let faultIndex: number | undefined;
  const fa = /^\s*fault addr (0x)?([0-9a-fA-F]+)/.exec(rest);
  const fi = /^\s*fault index (0x)?([0-9a-fA-F]+)/.exec(rest);
  if (fa) address = hexAddress(fa[2]!);
  else if (fi) faultIndex = hex(fi[2]!); // %llx, 0x%llx later: hex either way
  else if (!interrupt) return [undefined, 0];
  let reason = VTD_REASON.exec(rest);
  let used = 0;
  if (!reason) {
    // the two-line form: `DMAR:[fault reason 06] …` / `INTR-REMAP:[fault reason 34] …` next
    for (let j = i + 1; j < lines.length && j <= i + 2; j++) {
      if (lines[j]!.trim().length === 0) continue;
      const next = VTD_REASON.exec(kernelText(lines[j]!));
      if (next && /(?:DMAR|INTR-REMAP):\s?\[fault reason/.test(lines[j]!)) {
        reason = next;
        used = j - i;
        text.push(kernelText(lines[j]!).trim());
      }
      break;
    }
  }
  // before 5.13 the reason is printed with %02d, after with 0x%02x
  const code = reason ? (reason[1] ? hex(reason[2]!) : parseInt(reason[2]!, 10)) : undefined;
  let format: FaultLineFormat;
  if (interrupt) format = "vtd-intr-remap";
  else if (used > 0) format = "vtd-two-line";
  else if (tag === "NO_PASID" || (tag !== undefined && tag.startsWith("PASID"))) format = segment !== undefined ? "vtd-segment" : tag === "NO_PASID" ? "vtd-no-pasid" : "vtd-with-pasid";
  else if (pp) format = "vtd-pasid";
  else format = "vtd-one-line";
  const pasid = m[3] !== undefined ? hex(m[3]) : oldPasid !== undefined && oldPasid !== 0xffffffff ? oldPasid : undefined;
  return [
    {
      line: i + 1,
      text,
      arch: "vtd",
      format,
      segment,
      rid: r,
      address,
      access: interrupt ? undefined : kindText === "DMA Read" || kindText === "Page Request" ? "read" : "write",
      code,
      reason: reason ? reason[3]!.trim() : undefined,
      kind: interrupt ? "interrupt" : "dma",
      ...(pasid !== undefined && { pasid }),
      ...(faultIndex !== undefined && { faultIndex }),
      ...(status !== undefined && { faultStatus: status }),
    },
    used,
  ];
}

const AMD_EVENT_CODES: Record<string, number> = {
  ILLEGAL_DEV_TABLE_ENTRY: 0x1,
  IO_PAGE_FAULT: 0x2,
  DEV_TAB_HARDWARE_ERROR: 0x3,
  PAGE_TAB_HARDWARE_ERROR: 0x4,
  ILLEGAL_COMMAND_ERROR: 0x5,
  COMMAND_HARDWARE_ERROR: 0x6,
  IOTLB_INV_TIMEOUT: 0x7,
  INVALID_DEVICE_REQUEST: 0x8,
  INVALID_PPR_REQUEST: 0x9,
  RMP_PAGE_FAULT: 0xd,
  RMP_HW_ERROR: 0xe,
};
/** IO_PAGE_FAULT flags, relative to event[1] bit 16: RW set for writes */
const AMD_FLAG_RW = 0x020;

function readAmd(lines: readonly string[], i: number, k: string): [ParsedFault | undefined, number] {
  const at = AMD_EVENT.exec(k)!;
  let body = k.slice(at.index + at[0].length);
  const text = [k.trim()];
  let used = 0;
  if (body.trim().length === 0) {
    // before 4.x the event went on a continuation line of its own
    for (let j = i + 1; j < lines.length && j <= i + 2; j++) {
      if (lines[j]!.trim().length === 0) continue;
      const next = kernelText(lines[j]!).trim();
      if (/^[A-Z_]+ /.test(next)) {
        body = next;
        used = j - i;
        text.push(next);
      }
      break;
    }
  }
  const name = /^([A-Z_]+)\b/.exec(body);
  if (!name) return [undefined, 0];
  const kv = new Map<string, string>();
  for (const m of body.matchAll(/(\w+)=(\S+?)(?=[\s\]]|$)/g)) kv.set(m[1]!, m[2]!);
  const prefix = k.slice(0, at.index);
  const printedAgainst = PCI_NAME.exec(prefix);
  let segment: number | undefined;
  let r: number;
  let format: FaultLineFormat;
  const dev = kv.get("device");
  if (dev) {
    const d = /^(?:([0-9a-fA-F]{4,8}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(dev);
    if (!d) return [undefined, 0];
    segment = d[1] !== undefined ? hex(d[1]) : undefined;
    r = rid(hex(d[2]!), hex(d[3]!), Number(d[4]));
    const addr = kv.get("address");
    format = segment !== undefined ? "amd-segment" : addr !== undefined && /^0x[0-9a-fA-F]{16}$/.test(addr) ? "amd-padded" : "amd-no-segment";
  } else if (printedAgainst) {
    segment = hex(printedAgainst[1]!);
    r = rid(hex(printedAgainst[2]!), hex(printedAgainst[3]!), Number(printedAgainst[4]));
    format = "amd-device";
  } else return [undefined, 0];
  const num = (key: string): number | undefined => {
    const v = kv.get(key);
    return v !== undefined && /^(?:0x)?[0-9a-fA-F]+$/.test(v) ? hex(v.replace(/^0x/, "")) : undefined;
  };
  const flags = num("flags");
  const event = name[1]!;
  const address = kv.get("address");
  return [
    {
      line: i + 1,
      text,
      arch: "amd",
      format,
      segment,
      rid: r,
      address: address && /^(?:0x)?[0-9a-fA-F]+$/.test(address) ? hexAddress(address) : undefined,
      access: event === "IO_PAGE_FAULT" && flags !== undefined ? (flags & AMD_FLAG_RW ? "write" : "read") : undefined,
      code: AMD_EVENT_CODES[event],
      reason: event,
      kind: "event",
      ...(num("domain") !== undefined && { domain: num("domain") }),
      ...(flags !== undefined && { flags }),
      ...(num("pasid") !== undefined && { pasid: num("pasid") }),
      ...(printedAgainst && { device: `${printedAgainst[1]!.padStart(4, "0").slice(-4)}:${printedAgainst[2]}:${printedAgainst[3]}.${printedAgainst[4]}`.toLowerCase() }),
    },
    used,
  ];
}

/** SMMUv3 event names by id (EVTQ_0_ID) */
const SMMU_EVENTS: Record<number, string> = {
  0x01: "F_UUT",
  0x02: "C_BAD_STREAMID",
  0x03: "F_STE_FETCH",
  0x04: "C_BAD_STE",
  0x05: "F_BAD_ATS_TREQ",
  0x06: "F_STREAM_DISABLED",
  0x07: "F_TRANSL_FORBIDDEN",
  0x08: "C_BAD_SUBSTREAMID",
  0x09: "F_CD_FETCH",
  0x0a: "C_BAD_CD",
  0x0b: "F_WALK_EABT",
  0x10: "F_TRANSLATION",
  0x11: "F_ADDR_SIZE",
  0x12: "F_ACCESS",
  0x13: "F_PERMISSION",
  0x20: "F_TLB_CONFLICT",
  0x21: "F_CFG_CONFLICT",
  0x24: "E_PAGE_REQUEST",
  0x25: "F_VMS_FETCH",
};
/** EVTQ_1_RnW: bit 35 of the second event word, 1 for a read */
const SMMU_RNW = 1n << 35n;

function readSmmuRaw(lines: readonly string[], i: number, k: string): [ParsedFault | undefined, number] {
  const id = hex(SMMU_RAW.exec(k)![1]!.slice(2));
  const words: bigint[] = [];
  const text = [k.trim()];
  let j = i + 1;
  for (; j < lines.length && words.length < 4; j++) {
    const w = SMMU_WORD.exec(kernelText(lines[j]!));
    if (!w) break;
    words.push(BigInt(`0x${w[1]}${w[2]}`));
    text.push(kernelText(lines[j]!).trim());
  }
  if (words.length === 0) return [undefined, 0];
  const sid = Number((words[0]! >> 32n) & 0xffffffffn);
  const access = words.length > 1 ? ((words[1]! & SMMU_RNW) !== 0n ? "read" : "write") : undefined;
  return [
    {
      line: i + 1,
      text,
      arch: "smmu",
      format: "smmu-raw",
      segment: undefined,
      rid: sid & 0xffff,
      streamId: sid,
      address: words.length > 2 ? `0x${words[2]!.toString(16)}` : undefined,
      access,
      code: id,
      reason: SMMU_EVENTS[id],
      kind: "event",
    },
    words.length,
  ];
}

function readSmmuDecoded(lines: readonly string[], i: number, k: string): [ParsedFault | undefined, number] {
  const m = SMMU_DECODED.exec(k)!;
  const sid = m[3]!.startsWith("0x") ? hex(m[3]!.slice(2)) : Number(m[3]);
  const client = PCI_NAME.exec(` ${m[2]}`);
  const text = [k.trim()];
  let used = 0;
  let access: "read" | "write" | undefined;
  const next = i + 1 < lines.length ? kernelText(lines[i + 1]!) : "";
  const rw = /\b(?:un)?priv (?:data|instruction) (read|write)\b/.exec(next);
  if (rw) {
    access = rw[1] as "read" | "write";
    used = 1;
    text.push(next.trim());
  }
  const code = Object.entries(SMMU_EVENTS).find(([, n]) => n === m[1])?.[0];
  return [
    {
      line: i + 1,
      text,
      arch: "smmu",
      format: "smmu-decoded",
      segment: client ? hex(client[1]!) : undefined,
      rid: sid & 0xffff,
      streamId: sid,
      address: hexAddress(m[5]!),
      access,
      code: code !== undefined ? Number(code) : undefined,
      reason: m[1],
      kind: "event",
      ...(client && { device: `${client[1]}:${client[2]}:${client[3]}.${client[4]}`.toLowerCase() }),
    },
    used,
  ];
}
