import { excerpt } from "../../core/excerpt.js";
import { FAULT_TOO_LARGE, LIMITS, faultLimitProblem } from "../../core/limits.js";
import { parseFaultLog } from "../../core/faults/parse.js";
import type { FaultLogParse } from "../../core/faults/parse.js";
import { faultsToJson } from "../../core/faults/to-json.js";
import { predict } from "../../core/iommu/predict.js";
import { InputError, UsageError } from "../errors.js";
import { readTextFile } from "../input.js";
import { loadSource, textFromBytes } from "../load.js";
import { predictOptions } from "../options.js";
import type { PredictFlags } from "../options.js";
import type { Output } from "../output.js";
import { toJson } from "../output.js";
import { style } from "../render/text.js";

export interface FaultOptions extends PredictFlags {
  /** the pasted lines, or "-" to read them from stdin */
  lines: string;
  source?: string | undefined;
  json?: boolean | undefined;
  /** stdin, for tests */
  stdin?: (() => Promise<string>) | undefined;
}

/** a dmesg excerpt from stdin, read no further than the limit shows it is too large */
async function readStdin(): Promise<string> {
  const { bytes, tooLarge } = await readTextFile("-", LIMITS.fault.bytes, (detail) => new InputError(`stdin: ${detail}; paste the fault lines, or pipe a dmesg excerpt`));
  if (tooLarge) throw new InputError(`stdin:1: ${FAULT_TOO_LARGE}`);
  return textFromBytes(bytes, "stdin", "paste the fault lines as dmesg prints them");
}

/** the one line for a paste that holds no fault line we read; `where` names the paste */
export function noFaultError(where: string, parsed: FaultLogParse): InputError {
  const u = parsed.unread[0];
  return new InputError(
    u
      ? `${where}:${u.line}: an IOMMU fault line in a format not known ('${excerpt(u.text, 80)}'); paste the kernel's DMAR, AMD-Vi or arm-smmu-v3 lines as dmesg prints them`
      : `${where}: no IOMMU fault line (DMAR … Request device, AMD-Vi: Event logged, arm-smmu-v3 event) found; paste lines from dmesg`,
  );
}

/** `fault LINES [SOURCE]`: which functions can emit each fault's requester ID, whether an alias covers it, and the likely cause */
export async function fault(opts: FaultOptions, io: Output): Promise<number> {
  if (opts.lines === "-" && opts.source === "-") throw new UsageError("the fault lines and the source cannot both be read from stdin (-); save one of them to a file");
  const where = opts.lines === "-" ? "stdin" : "the fault argument";
  const text = opts.lines === "-" ? await (opts.stdin ?? readStdin)() : opts.lines;
  const limit = faultLimitProblem(text);
  if (limit) throw new InputError(`${where}:${limit.line}: ${limit.message}`);
  const parsed = parseFaultLog(text);
  if (parsed.faults.length === 0) throw noFaultError(where, parsed);
  const { snapshot, label } = await loadSource(opts.source);
  const p = predict(snapshot, predictOptions(opts));
  const data = faultsToJson(snapshot, label, p, parsed);
  if (opts.json) {
    io.out(toJson(data));
    return 0;
  }
  const s = style(io.color);
  const lines: string[] = [];
  for (const f of data.faults) {
    lines.push(`${s.bold(`line ${f.line}`)}  ${f.summary}  ${s.dim(`[${f.era}]`)}`);
    if (f.emitters.length === 0) lines.push(`  emitted by: no function`);
    for (const e of f.emitters) lines.push(`  emitted by ${e.bdf}: ${e.alias.cause === "own" ? "its own ID" : e.alias.text}`);
    lines.push(`  DMA alias: ${f.aliasCovered ? "yes, the kernel programs this ID when its function is attached" : "no"}`);
    lines.push(`  likely cause: ${f.cause.text}`);
    for (const n of f.notes) lines.push(s.dim(`  note: ${n}`));
  }
  for (const u of data.unread) lines.push(`${s.yellow("warning")}: ${where}:${u.line}: not read (format not known): ${excerpt(u.text, 100)}`);
  io.out(lines.join("\n"));
  return 0;
}
