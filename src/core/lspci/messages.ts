/**
 * English for the lspci reader's warnings, one switch over the code.
 * (Belongs in core/messages.ts once that file takes lspci warnings.)
 */
import { excerpt } from "../excerpt.js";
import type { LspciWarning } from "./warnings.js";

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
const others = (n: number, first: string): string => (n === 1 ? first : `${first} and ${n - 1} more`);
const list = (bdfs: readonly string[]): string => (bdfs.length <= 4 ? bdfs.join(", ") : `${bdfs.slice(0, 4).join(", ")} and ${bdfs.length - 4} more`);

export function formatLspciWarning(w: LspciWarning): string {
  switch (w.code) {
    case "several-dumps":
      return `the file holds ${w.dumps} lspci runs (starting at lines ${w.lines.length <= 4 ? w.lines.join(", ") : `${w.lines.slice(0, 4).join(", ")} and ${w.lines.length - 4} more`}); they are read as one machine`;
    case "dumps-disagree":
      return `${w.bdf}: lines ${w.lines[0]} and ${w.lines[1]} disagree about its ${w.field}; the first is used — are these two machines?`;
    case "text-skipped":
      return `${plural(w.lines, "line")} that are not lspci output were skipped (first at line ${w.first})`;
    case "capabilities-denied":
      return `capabilities of ${plural(w.functions, "function")} (${others(w.functions, w.first)}) were not readable (lspci run without root): ACS and PCIe types are unknown — run it as root`;
    case "capabilities-not-shown":
      return `no capabilities are shown for ${plural(w.functions, "function")} (${others(w.functions, w.first)}): ACS and PCIe types are unknown — use lspci -vvnn as root`;
    case "registers-not-shown":
      return `${plural(w.functions, "function")} (${others(w.functions, w.first)}) show ACS/ARI/SR-IOV without registers (lspci -v): their ACS is unknown — use lspci -vvnn`;
    case "extended-not-shown":
      return `dump ${w.dump + 1} shows no extended capabilities: ACS of ${plural(w.functions, "PCIe function")} is unknown (extended config space not read)`;
    case "registers-cut":
      return `${w.bdf}: the ${w.capability === "acs" ? "ACS" : w.capability === "sriov" ? "SR-IOV" : "PCI Express"} block at line ${w.line} is cut; what it would show is treated as unknown`;
    case "text-ends-in-block":
      return `${w.bdf} (line ${w.line}): the text stops inside its block, so its ACS is treated as unknown — paste the whole output`;
    case "ids-unknown":
      return `no numeric ids for ${plural(w.functions, "function")} (${others(w.functions, w.first)}): vendor/device read as ffff — use lspci -nn`;
    case "ids-from-names":
      return `no numeric ids: vendor and device of ${plural(w.functions, "function")} read back from their names through pci.ids${w.version ? ` ${w.version}` : ""} — lspci -nn gives them exactly`;
    case "ids-name-ambiguous":
      return `${w.bdf} (line ${w.line}): "${w.name}" is the name of ${w.candidates.join(", ")} in pci.ids; took ${w.chosen} — use lspci -nn`;
    case "ids-name-approximate":
      return `${w.bdf} (line ${w.line}): pci.ids${w.version ? ` ${w.version}` : ""} has no "${w.name}"; took ${w.chosen} ("${w.closest}")${w.candidates.length > 1 ? `, one of ${w.candidates.join(", ")} named as closely` : ""} — use lspci -nn`;
    case "ids-name-unknown":
      return `${plural(w.functions, "function")} (${w.first}: "${w.name}") have names pci.ids${w.version ? ` ${w.version}` : ""} does not hold: vendor/device read as ffff — use lspci -nn`;
    case "class-unknown":
      return `${w.bdf} (line ${w.line}): unknown class name "${excerpt(w.text, 60)}" — use lspci -nn`;
    case "bridge-buses-unknown":
      return `bus numbers of ${plural(w.bdfs.length, "bridge")} (${list(w.bdfs)}) are not shown: what sits behind them hangs off separate roots — add lspci -t or use -v`;
    case "bus-guessed":
      return `${w.bdf} (line ${w.line}): its secondary bus is not shown; bus ${w.bus.toString(16).padStart(2, "0")} was assumed for the path below it`;
    case "multifunction-inferred":
      return `multi-function bit inferred from listed siblings for ${list(w.bdfs)}`;
    case "hex-gap":
      return `${w.bdf} (line ${w.line}): the hex dump breaks off at offset 0x${w.offset.toString(16)}; later bytes are not used`;
    case "tree-disagrees":
      return `${w.bdf}: the tree (line ${w.line}) gives other bus numbers than its Bus: line; the Bus: line is used`;
  }
}
