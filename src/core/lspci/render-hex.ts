/**
 * Renders a snapshot as `lspci -D -nn -xxxx`-style text: one device line
 * with numeric ids per function, then its config bytes, 16 a line. Our own
 * layout of lspci's dump format, so every source can be run through the
 * text reader and compared.
 */
import { className } from "../names.js";
import type { Snapshot } from "../sources/snapshot.js";
import type { PciFunction } from "../topology/model.js";

const HEX = "0123456789abcdef";
const hex2 = (n: number): string => HEX[(n >> 4) & 15]! + HEX[n & 15]!;
const hex4 = (n: number): string => hex2(n >> 8) + hex2(n);

function deviceLine(fn: PciFunction): string {
  const cls = fn.classCode >> 8;
  let line = `${fn.bdf} ${className(fn.classCode)} [${hex4(cls)}]: Device [${hex4(fn.vendor)}:${hex4(fn.device)}]`;
  if (fn.revision) line += ` (rev ${hex2(fn.revision)})`;
  if (fn.classCode & 0xff) line += ` (prog-if ${hex2(fn.classCode & 0xff)})`;
  return line;
}

/** functions without config bytes (predicted VFs, text sources) are left out */
export function renderLspciHex(snapshot: Snapshot): string {
  const out: string[] = [];
  for (const fn of snapshot.topology.functions.values()) {
    const bytes = fn.config?.bytes;
    if (!bytes || bytes.byteLength === 0) continue;
    out.push(deviceLine(fn));
    if (fn.subsystemVendor !== undefined && fn.subsystemDevice !== undefined) {
      out.push(`\tSubsystem: Device [${hex4(fn.subsystemVendor)}:${hex4(fn.subsystemDevice)}]`);
    }
    for (let off = 0; off < bytes.byteLength; off += 16) {
      let row = off < 0x100 ? hex2(off) : off.toString(16).padStart(3, "0");
      row += ":";
      const end = Math.min(off + 16, bytes.byteLength);
      for (let i = off; i < end; i++) row += ` ${hex2(bytes[i]!)}`;
      out.push(row);
    }
    out.push("");
  }
  return out.join("\n");
}
