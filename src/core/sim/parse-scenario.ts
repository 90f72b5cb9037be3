/**
 * Reads a scenario file: YAML checked with zod (./scenario-schema.ts),
 * every problem with its line and field. A host's inline `devices:` list
 * is cut out of the text with its lines kept in place, so the design
 * parser's problems point at the scenario's own lines.
 */
import { isAlias, isMap, isScalar, stringify, visit } from "yaml";
import type { Document } from "yaml";
import { parseYaml } from "../design/yaml-source.js";
import type { YamlProblem } from "../design/yaml-source.js";
import { scenarioSchema } from "./scenario-schema.js";
import type { ScenarioFile } from "./scenario-schema.js";

/** a problem in a scenario, pointing at its line and field */
export type ScenarioProblem = YamlProblem;

/** where a host's topology comes from */
export type HostTopologyInput =
  /** `lines`: the design text keeps the scenario's lines ("kept"), or was rebuilt from YAML aliases and every problem is on `line` */
  | { readonly kind: "inline"; readonly designText: string; readonly line: number; readonly lines: "kept" | "rebuilt" }
  | { readonly kind: "source"; readonly path: string; readonly line: number };

export interface ScenarioInput {
  readonly file: ScenarioFile;
  readonly lineOf: (path: readonly (string | number)[]) => number;
  /** per host, in order */
  readonly topologies: readonly HostTopologyInput[];
  /** per host: the kernel release as written (YAML would read 5.10 as the number 5.1) */
  readonly kernelTexts: readonly (string | undefined)[];
}

export type ScenarioParse = { readonly ok: true; readonly input: ScenarioInput } | { readonly ok: false; readonly problems: readonly ScenarioProblem[] };

/** the text of `key: value` inside a map, everything else blanked, newlines kept */
function sliceKey(text: string, doc: Document, path: readonly (string | number)[], key: string): string | undefined {
  const map = doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  if (!pair || !isScalar(pair.key) || !pair.key.range) return undefined;
  const value = pair.value as { range?: [number, number, number] } | null;
  if (!value?.range) return undefined;
  const start = pair.key.range[0];
  const end = value.range[1];
  // the key's lines where they stand in the file: as many line breaks before it, and its column kept
  // (a copy of the whole file per host made many hosts quadratic in memory)
  const lineStart = text.lastIndexOf("\n", start - 1) + 1;
  let breaks = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < lineStart; i = text.indexOf("\n", i + 1)) breaks++;
  return "\n".repeat(breaks) + " ".repeat(start - lineStart) + text.slice(start, end);
}

/** the source text of a scalar, when the YAML has one at `path` */
function scalarSource(doc: Document, path: readonly (string | number)[]): string | undefined {
  const node = doc.getIn(path, true);
  return isScalar(node) && typeof node.source === "string" ? node.source : isScalar(node) ? String(node.value) : undefined;
}

/** parses a scenario's text; problems carry `line` and a field path like `hosts[0].domains[1].mappings[0].size` */
export function parseScenario(text: string): ScenarioParse {
  const parsed = parseYaml(text, scenarioSchema);
  if (!parsed.ok) return parsed;
  const { value: file, doc, lineOf } = parsed;
  const problems: ScenarioProblem[] = [];
  const topologies: HostTopologyInput[] = [];
  file.hosts.forEach((h, i) => {
    const at = ["hosts", i];
    if (h.devices !== undefined && h.source !== undefined) {
      problems.push({ line: lineOf([...at, "source"]), path: `hosts[${i}].source`, message: "give the topology either inline (devices:) or as a source:, not both" });
      return;
    }
    if (h.source !== undefined) {
      topologies.push({ kind: "source", path: h.source, line: lineOf([...at, "source"]) });
      return;
    }
    if (h.devices === undefined) {
      problems.push({ line: lineOf(at), path: `hosts[${i}]`, message: "a host needs its topology: devices: (a design's device list) or source: (a capture or design file)" });
      return;
    }
    const line = lineOf([...at, "devices"]);
    // a list that uses YAML aliases (*name) cannot be cut out: rebuild it from its values
    let aliased = false;
    const node = doc.getIn([...at, "devices"], true);
    if (isAlias(node)) aliased = true;
    else if (node && typeof node === "object") {
      visit(node as Parameters<typeof visit>[0], {
        Alias: () => {
          aliased = true;
          return visit.BREAK;
        },
      });
    }
    const sliced = aliased ? undefined : sliceKey(text, doc, at, "devices");
    if (sliced !== undefined) topologies.push({ kind: "inline", designText: sliced, line, lines: "kept" });
    else topologies.push({ kind: "inline", designText: stringify({ devices: h.devices }), line, lines: "rebuilt" });
  });
  const names = new Map<string, number>();
  file.hosts.forEach((h, i) => {
    const first = names.get(h.name);
    if (first !== undefined) problems.push({ line: lineOf(["hosts", i, "name"]), path: `hosts[${i}].name`, message: `host '${h.name}' is declared twice (first as hosts[${first}])` });
    else names.set(h.name, i);
  });
  if (problems.length > 0) return { ok: false, problems };
  const kernelTexts = file.hosts.map((h, i) => (h.kernel === undefined ? undefined : scalarSource(doc, ["hosts", i, "kernel"])));
  return { ok: true, input: { file, lineOf, topologies, kernelTexts } };
}
