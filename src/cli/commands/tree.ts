import { treeToJson } from "../../core/json/topology.js";
import { loadSource } from "../load.js";
import { loadPciIds } from "../pci-ids.js";
import type { Output } from "../output.js";
import { toJson } from "../output.js";
import { issueLines, renderTree, style } from "../render/text.js";

export interface TreeOptions {
  source?: string | undefined;
  json?: boolean | undefined;
}

/** `tree`: the bus hierarchy like `lspci -tv`, with port types and ACS state */
export async function tree(opts: TreeOptions, io: Output): Promise<number> {
  const { snapshot, label } = await loadSource(opts.source);
  const data = treeToJson(snapshot, label, await loadPciIds());
  if (opts.json) {
    io.out(toJson(data));
    return 0;
  }
  const s = style(io.color);
  io.out([...renderTree(data.roots, s), ...issueLines(data.issues, s), ...data.source.notes.map((n) => s.dim(`note: ${n}`))].join("\n"));
  return 0;
}
