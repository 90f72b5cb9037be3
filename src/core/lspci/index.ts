/**
 * Reads `lspci` output as pasted in the wild into the same Snapshot a
 * binary capture gives.
 *
 * Formats: hex dumps (`-x`, `-xxx`, `-xxxx`), verbose text (`-v`, `-vv`,
 * `-vvv`, with `-n`/`-nn`, `-D`, `-k`, `-P`/`-PP` paths), plain listings
 * (`lspci`, `-nn`, `-nnk`), machine forms (`-mm`, `-vmm`), trees (`-t`, `-tv`,
 * `-tvnn`), the ls-iommu script's `IOMMU Group N …` lines, and any mix of
 * these in one file.
 *
 * Rules for what the text does not say (missing stays missing):
 * - Hex bytes go through decodeConfig with `known` = the bytes printed;
 *   `complete` when 4096 were printed, or 256 in a dump where others have
 *   4096 (that function's config space is 256 bytes, as a root sysfs read
 *   would say). 64 or 256 bytes alone are partial: decodeConfig records it.
 * - Verbose text becomes a synthetic DecodedConfig: `bytes` holds only real
 *   hex bytes (none for pure text, so quirks reading registers see nothing),
 *   capabilities are records at the offsets of their `Capabilities: [..]`
 *   lines, with only the fields the text printed (ExpressCap.devCap holds the
 *   payload, phantom, ExtTag, RBE and FLR bits; version is 0 when `-v` hid it).
 * - `Capabilities: <access denied>` (no root): capabilitiesKnown and
 *   extendedKnown are false, so ACS is "unknown", never "absent"; the
 *   function also gets a config-short issue and the snapshot a
 *   config-unprivileged note.
 * - No `-v` at all (plain listing, `-mm`, tree): capabilities unknown.
 *   A `-v`/`-vv` block with no capability line but `Status: Cap+` was cut:
 *   capabilities unknown. Without `Status: Cap+` no capability line means
 *   none.
 * - Extended capabilities: if no function of a dump shows any, a PCIe
 *   function's extended space was not read (extendedKnown false); if some
 *   do, a PCIe function without any really has none (ACS absent).
 * - `-v` without `-vv`: ACS/ARI/SR-IOV headers appear without registers;
 *   such a function has extendedKnown false (ACS unknown). A `-v` function
 *   showing none of them has them absent. An ACS or SR-IOV block whose
 *   register lines are missing or cut, an Express header cut before its
 *   type, or text that stops inside a dump's last PCIe block (lspci closes
 *   every block with a blank line) make extendedKnown false too.
 * - Ids: `[vvvv:dddd]` (`-nn`) or `vvvv:dddd` (`-n`); without them vendor
 *   and device are 0xffff (the topology builder's own "unknown") and the
 *   ids-unknown warning says so. Class from `[cccc]`, or from its name;
 *   prog-if from `(prog-if pp)`, which lspci prints only with `-v` (else 0).
 * - Header type: 1 when a `Bus: primary=` line is shown (2 for CardBus), the
 *   hex byte when a dump has it, `!!! Unknown header type` as printed; in a
 *   plain listing, class 0604/0609 means a bridge whose buses are unknown.
 * - Multi-function bit: from hex when printed; otherwise function 0 has it
 *   when other functions of its slot are listed, not counting VFs of a listed
 *   PF (an fn 0 with the bit but no listed sibling reads as single).
 * - Trees give bridge secondary/subordinate buses and parent links; combined
 *   with device lines they fill bridges whose `Bus:` line is missing.
 *   `-P` paths name the parent bridge; a path element without a bus number
 *   takes the parent's secondary bus (from its `Bus:` line or a tree), else
 *   the lowest free number (bus-guessed warning).
 * - Several dumps in one file: a new dump starts at a shell prompt running
 *   lspci, at a function seen again, and where a tree starts or ends. Dumps
 *   are taken to describe one machine: a BDF seen in several dumps is one
 *   function, read from its richest dump (hex ≥ 256 bytes, then -vv, -v,
 *   listing) with gaps filled from the others; disagreeing ids are warned.
 * - `IOMMU group: N` (and `IOMMU group N` in `-v` flags, `IOMMUGroup:` in
 *   `-vmm`, `IOMMU Group N` script lines) give kernelGroups; none → undefined.
 */
import { assemble } from "./assemble.js";
import type { LspciFormat } from "./assemble.js";
import { isHexDigit } from "./caps.js";
import { parseAddress, parseDeviceRest, scriptGroupAt } from "./device-line.js";
import { decodeQuotedPrintable } from "./mail.js";
import { idsFromNames } from "./pci-names.js";
import { scanLspci } from "./scan.js";
import type { PciIds } from "../pci-ids/pci-ids.js";
import { TreeReader } from "./tree.js";
import { lspciLimitProblem } from "../limits.js";
import type { Snapshot } from "../sources/snapshot.js";
import type { LspciWarning } from "./warnings.js";

export type LspciResult =
  | { ok: true; snapshot: Snapshot; format: LspciFormat; dumps: number; warnings: LspciWarning[] }
  | { ok: false; line: number; text: string; reason: string };

const NOT_LSPCI = "not lspci output: no device line (`00:02.0 PCI bridge: …`), hex dump or `lspci -t` tree in the file — save the output of `sudo lspci -vvnn` and pass that";

/**
 * Reads lspci text. Never throws: text with no lspci output in it gives
 * `ok: false` naming the first line that did not fit.
 */
export function snapshotFromLspci(text: string, opts: LspciOptions = {}): LspciResult {
  const limit = lspciLimitProblem(text);
  if (limit) return { ok: false, line: limit.line, text: "", reason: limit.message };
  const scan = scanLspci(decodeQuotedPrintable(text));
  if (!scan.dumps.some((d) => d.records.length > 0 || d.trees.length > 0)) {
    const unfit = scan.firstUnfit;
    if (!unfit) return { ok: false, line: 1, text: "", reason: "empty: no lspci output; save the output of `sudo lspci -vvnn` and pass that" };
    return { ok: false, line: unfit.line, text: unfit.text, reason: NOT_LSPCI };
  }
  const named = opts.pciIds ? idsFromNames(scan.dumps, opts.pciIds) : [];
  const { snapshot, format, dumps, warnings } = assemble(scan);
  return { ok: true, snapshot, format, dumps, warnings: [...named, ...warnings] };
}

export interface LspciOptions {
  /** pci.ids, to read ids back from names when lspci ran without -n */
  readonly pciIds?: PciIds | undefined;
}

/** true when some function printed a name but no ids, or a class name the built-in table lacks: reading it again with pci.ids would help */
export function needsPciIds(r: LspciResult): boolean {
  return r.ok && r.warnings.some((w) => w.code === "ids-unknown" || w.code === "class-unknown");
}

/**
 * true when the text holds lspci output anywhere (content detection): bug
 * reports and mails carry it after pages of headers and logs. Each line
 * costs a few character checks until one fits.
 */
export function looksLikeLspci(input: string): boolean {
  const text = decodeQuotedPrintable(input);
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    let p = 0;
    while (p < line.length && (line.charCodeAt(p) === 32 || line.charCodeAt(p) === 9 || line.charCodeAt(p) === 62 || line.charCodeAt(p) === 160)) p++;
    if (p >= line.length) continue;
    if (TreeReader.startsTree(line, p) && /^-(?:\+-)?\[[0-9a-fA-F]{2,8}(?::[0-9a-fA-F]{2})?\]/.test(line.slice(p))) return true;
    const g = scriptGroupAt(line, p);
    if (g) p = g[1];
    if (line.startsWith("Slot:", p)) {
      let v = p + 5;
      while (line.charCodeAt(v) === 9 || line.charCodeAt(v) === 32) v++;
      if (parseAddress(line.replace(/\r$/, ""), v)) return true;
    }
    if (!isHexDigit(line.charCodeAt(p))) continue;
    const addr = parseAddress(line, p);
    if (addr && parseDeviceRest(line.slice(addr.end).trim().replace(/\r$/, ""))) return true;
  }
  return false;
}

export type { LspciFormat } from "./assemble.js";
export type { LspciWarning, LspciWarningCode } from "./warnings.js";
export { formatLspciWarning } from "./messages.js";
export { projectSnapshot } from "./project.js";
export type { ProjectOptions } from "./project.js";
export { renderLspciHex } from "./render-hex.js";
