import { showToJson } from "../../core/json/topology.js";
import { loadSource } from "../load.js";
import { loadPciIds } from "../pci-ids.js";
import type { Output } from "../output.js";
import { toJson } from "../output.js";
import { issueLines, showLine, style } from "../render/text.js";

export interface ShowOptions {
  source?: string | undefined;
  json?: boolean | undefined;
}

/** `show`: one line per function, lspci-like */
export async function show(opts: ShowOptions, io: Output): Promise<number> {
  const { snapshot, label } = await loadSource(opts.source);
  const data = showToJson(snapshot, label, await loadPciIds());
  if (opts.json) {
    io.out(toJson(data));
    return 0;
  }
  const s = style(io.color);
  const lines = data.functions.map((f) => showLine(f, s));
  for (const f of data.functions) for (const i of f.issues) if (i.severity !== "info") lines.push(`${s.yellow("warning")}: ${f.bdf}: ${i.message}`);
  lines.push(...issueLines(data.issues, s), ...data.source.notes.map((n) => s.dim(`note: ${n}`)));
  io.out(lines.join("\n"));
  return 0;
}
