/**
 * Device selectors in a plan: one function by address, every function with
 * a vendor:device pair, or every function of a class.
 */
import { hex4 } from "../names.js";
import { formatBdf, parseBdf } from "../topology/address.js";
import type { PciFunction } from "../topology/model.js";

export type Selector =
  | { readonly kind: "bdf"; readonly bdf: string }
  | { readonly kind: "id"; readonly vendor: number; readonly device: number }
  /** `digits` of the 24-bit class code, from the top: 2 base class, 4 with subclass, 6 with prog-if */
  | { readonly kind: "class"; readonly code: number; readonly digits: 2 | 4 | 6 };

/** a more specific selector wins over a broader one for the same function */
export const SPECIFICITY: Record<Selector["kind"], number> = { bdf: 3, id: 2, class: 1 };

const ID_RE = /^([0-9a-f]{4}):([0-9a-f]{4})$/i;
const CLASS_PREFIXED_RE = /^class:(?:0x)?([0-9a-f]{2}|[0-9a-f]{4}|[0-9a-f]{6})$/i;
const CLASS_BARE_RE = /^(?:0x)?([0-9a-f]{4}|[0-9a-f]{6})$/i;

/** `0000:01:00.0`, `01:00.0`, `10de:1b80`, `0300`, `class:0c03`, `class:03`; undefined when it is none of them */
export function parseSelector(text: string): Selector | undefined {
  const t = text.trim();
  const id = ID_RE.exec(t);
  if (id) return { kind: "id", vendor: parseInt(id[1]!, 16), device: parseInt(id[2]!, 16) };
  const cls = CLASS_PREFIXED_RE.exec(t) ?? CLASS_BARE_RE.exec(t);
  if (cls) return { kind: "class", code: parseInt(cls[1]!, 16), digits: cls[1]!.length as 2 | 4 | 6 };
  const a = parseBdf(t);
  if (a) return { kind: "bdf", bdf: formatBdf(a.segment, a.bus, a.devfn) };
  return undefined;
}

export function selectorMatches(sel: Selector, fn: PciFunction): boolean {
  switch (sel.kind) {
    case "bdf":
      return fn.bdf === sel.bdf;
    case "id":
      return fn.vendor === sel.vendor && fn.device === sel.device;
    case "class":
      return fn.classCode >> (24 - 4 * sel.digits) === sel.code;
  }
}

/** canonical text: `0000:01:00.0`, `10de:1b80`, `class:0300` */
export function formatSelector(sel: Selector): string {
  switch (sel.kind) {
    case "bdf":
      return sel.bdf;
    case "id":
      return `${hex4(sel.vendor)}:${hex4(sel.device)}`;
    case "class":
      return `class:${sel.code.toString(16).padStart(sel.digits, "0")}`;
  }
}

/** a requester ID as a plan writes it: `[dddd:]bb:dd.f`, or `dd.f` on the device's own bus */
export interface RidText {
  readonly segment: number | undefined;
  readonly bus: number | undefined;
  readonly devfn: number;
}

const DEVFN_RE = /^([0-9a-f]{1,2})\.([0-7])$/i;

export function parseRid(text: string): RidText | undefined {
  const t = text.trim();
  const d = DEVFN_RE.exec(t);
  if (d) {
    const slot = parseInt(d[1]!, 16);
    return slot > 0x1f ? undefined : { segment: undefined, bus: undefined, devfn: (slot << 3) | Number(d[2]) };
  }
  const a = parseBdf(t, -1);
  if (!a) return undefined;
  return { segment: a.segment === -1 ? undefined : a.segment, bus: a.bus, devfn: a.devfn };
}
