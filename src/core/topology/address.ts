/** devfn / slot / function / requester-ID helpers in the kernel's vocabulary (include/uapi/linux/pci.h). */
export const devfnOf = (slot: number, fn: number): number => ((slot & 0x1f) << 3) | (fn & 0x07);
export const slotOf = (devfn: number): number => (devfn >> 3) & 0x1f;
export const funcOf = (devfn: number): number => devfn & 0x07;
/** 16-bit requester ID: bus << 8 | devfn (PCI_DEVID) */
export const devId = (bus: number, devfn: number): number => ((bus & 0xff) << 8) | (devfn & 0xff);

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");

/** `bb` for 0..255, and `dd.f` for every devfn: BDFs are formatted by table lookups */
const HEX2 = Array.from({ length: 256 }, (_, i) => hex(i, 2));
const DEVFN_TEXT = Array.from({ length: 256 }, (_, d) => `${HEX2[slotOf(d)]}.${funcOf(d)}`);
/** `dddd:` of the last segment formatted */
let segmentText = "0000:";
let segmentTextOf = 0;

/** `dddd:bb:dd.f` (the segment grows past 4 digits for VMD domains) */
export function formatBdf(segment: number, bus: number, devfn: number): string {
  if (segment !== segmentTextOf) {
    segmentText = `${hex(segment, 4)}:`;
    segmentTextOf = segment;
  }
  const b = HEX2[bus] ?? hex(bus, 2);
  const d = DEVFN_TEXT[devfn] ?? `${hex(slotOf(devfn), 2)}.${funcOf(devfn)}`;
  return `${segmentText}${b}:${d}`;
}

/** `bb:dd.f` */
export function formatRid(rid: number): string {
  return `${hex(rid >> 8, 2)}:${hex(slotOf(rid & 0xff), 2)}.${funcOf(rid & 0xff)}`;
}

/** `dd.f` */
export function formatDevfn(devfn: number): string {
  return `${hex(slotOf(devfn), 2)}.${funcOf(devfn)}`;
}

export interface Bdf {
  readonly segment: number;
  readonly bus: number;
  readonly devfn: number;
}

const BDF_RE = /^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

/** parses `[dddd:]bb:dd.f`; undefined when it is not one */
export function parseBdf(text: string, defaultSegment = 0): Bdf | undefined {
  const m = BDF_RE.exec(text.trim());
  if (!m) return undefined;
  const slot = parseInt(m[3]!, 16);
  if (slot > 0x1f) return undefined;
  return {
    segment: m[1] === undefined ? defaultSegment : parseInt(m[1], 16),
    bus: parseInt(m[2]!, 16),
    devfn: devfnOf(slot, parseInt(m[4]!, 10)),
  };
}

/** canonical form of a user-typed BDF, or undefined */
export function normalizeBdf(text: string): string | undefined {
  const b = parseBdf(text);
  return b && formatBdf(b.segment, b.bus, b.devfn);
}

/** `dddd:bb` texts of the segments seen so far, 256 per segment: bus keys are looked up, not built */
const busKeys = new Map<number, string[]>();

export function busKey(segment: number, bus: number): string {
  const row = HEX2[bus] === undefined ? undefined : busKeys.get(segment);
  if (row !== undefined) return row[bus]!;
  if (HEX2[bus] === undefined || busKeys.size > 4096) return `${hex(segment, 4)}:${hex(bus, 2)}`;
  const made = HEX2.map((b) => `${hex(segment, 4)}:${b}`);
  busKeys.set(segment, made);
  return made[bus]!;
}
