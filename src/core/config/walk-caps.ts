import type { ConfigIssue } from "../issues.js";
import {
  PCI_CAP_LIST_ID,
  PCI_CAP_LIST_NEXT,
  PCI_CAP_MAX_WALK,
  PCI_EXT_CAP_MAX_WALK,
  PCI_EXT_CAP_START,
  pciExtCapId,
  pciExtCapNext,
  pciExtCapVer,
} from "../regs/caps.js";
import { PCI_STATUS, PCI_STATUS_CAP_LIST } from "../regs/header.js";
import type { ConfigSpace } from "./space.js";

/** where a capability sits; decoding is separate (caps/) */
export interface CapLocation {
  readonly space: "standard" | "extended";
  readonly offset: number;
  readonly id: number;
  /** extended capabilities only */
  readonly version?: number;
}

/**
 * Walks the standard list from `pointerOffset` with the kernel's guards:
 * at most 48 entries, pointers below 0x40 end the list, ID 0xff ends it,
 * and a revisited offset is a loop.
 */
export function walkStandardCaps(space: ConfigSpace, pointerOffset: number, issues: ConfigIssue[]): CapLocation[] {
  const out: CapLocation[] = [];
  const status = space.u16(PCI_STATUS);
  if (status === undefined || (status & PCI_STATUS_CAP_LIST) === 0) return out;
  let pos = space.u8(pointerOffset);
  if (pos === undefined) return out;
  const seen = new Set<number>();
  let from = pointerOffset;
  for (let ttl = PCI_CAP_MAX_WALK; ttl > 0; ttl--) {
    if (pos < 0x40) {
      if (pos !== 0) issues.push({ code: "cap-pointer-invalid", offset: from, pointer: pos, space: "standard" });
      return out;
    }
    pos &= ~3;
    if (!space.has(pos, 2)) {
      issues.push({ code: "cap-beyond-known", offset: pos, known: space.known, space: "standard" });
      return out;
    }
    if (seen.has(pos)) {
      issues.push({ code: "cap-loop", offset: pos, space: "standard" });
      return out;
    }
    seen.add(pos);
    const id = space.u8(pos + PCI_CAP_LIST_ID)!;
    if (id === 0xff) return out;
    out.push({ space: "standard", offset: pos, id });
    from = pos + PCI_CAP_LIST_NEXT;
    pos = space.u8(from)!;
  }
  issues.push({ code: "cap-loop", offset: pos, space: "standard" });
  return out;
}

/**
 * Walks the extended list from 0x100 with the kernel's guards: a zero or
 * all-ones first header means no list, at most (4096-256)/8 entries, a next
 * pointer below 0x100 ends it.
 */
export function walkExtendedCaps(space: ConfigSpace, issues: ConfigIssue[]): CapLocation[] {
  const out: CapLocation[] = [];
  if (space.known <= PCI_EXT_CAP_START) return out;
  let pos = PCI_EXT_CAP_START;
  let header = space.u32(pos);
  if (header === undefined || header === 0 || header === 0xffffffff) return out;
  const seen = new Set<number>();
  for (let ttl = PCI_EXT_CAP_MAX_WALK; ttl > 0; ttl--) {
    if (seen.has(pos)) {
      issues.push({ code: "cap-loop", offset: pos, space: "extended" });
      return out;
    }
    seen.add(pos);
    out.push({ space: "extended", offset: pos, id: pciExtCapId(header), version: pciExtCapVer(header) });
    const next = pciExtCapNext(header);
    if (next === 0) return out;
    if (next < PCI_EXT_CAP_START) {
      issues.push({ code: "cap-pointer-invalid", offset: pos, pointer: next, space: "extended" });
      return out;
    }
    const h = space.u32(next);
    if (h === undefined) {
      issues.push({ code: "cap-beyond-known", offset: next, known: space.known, space: "extended" });
      return out;
    }
    if (h === 0xffffffff || h === 0) return out;
    pos = next;
    header = h;
  }
  issues.push({ code: "cap-loop", offset: pos, space: "extended" });
  return out;
}
