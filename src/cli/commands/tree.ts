import { treeToJson } from "../../core/json/topology.js";
import { loadSource } from "../load.js";
import { loadPciIds } from "../pci-ids.js";
import type { Output } from "../output.js";
import { outJson, outLines } from "../output.js";
import { issueLines, renderTree, style } from "../render/text.js";

export interface TreeOptions {
  source?: string | undefined;
  json?: boolean | undefined;
}

/** `tree`: the bus hierarchy like `lspci -tv`, with port types and ACS state */
export async function tree(opts: TreeOptions, io: Output): Promise<number> {
  // the name database is read while the source is
  const names = loadPciIds();
  const { snapshot, label } = await loadSource(opts.source);
  const data = treeToJson(snapshot, label, await names);
  if (opts.json) {
    await outJson(io, data);
    return 0;
  }
  const s = style(io.color);
  await outLines(io, [...renderTree(data.roots, s), ...issueLines(data.issues, s), ...data.source.notes.map((n) => s.dim(`note: ${n}`))]);
  return 0;
}
