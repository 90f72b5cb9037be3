/**
 * docs/schemas/scenario.schema.json documents the scenario format; these
 * checks keep it in step with the parser: the same fields, patterns that
 * accept what the parser accepts, and the worked example in
 * docs/scenario.md loading and holding its expectations.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LOG_FORMATS } from "./fault-log.js";
import { OUTCOME_REASONS } from "./outcome.js";
import { SCENARIO_FIELDS, parseQuantity } from "./scenario-schema.js";
import { loadScenario } from "./simulation.js";

interface Node {
  properties?: Record<string, Node>;
  $ref?: string;
  pattern?: string;
  anyOf?: Node[];
  enum?: unknown[];
  type?: string | string[];
}
const schema = JSON.parse(readFileSync(new URL("../../../docs/schemas/scenario.schema.json", import.meta.url), "utf8")) as Node & { $defs: Record<string, Node> };
const def = (name: string): Node => schema.$defs[name]!;
const keys = (n: Node): string[] => Object.keys(n.properties ?? {}).sort();
const sorted = (a: readonly string[]): string[] => [...a].sort();

function matchesText(n: Node, text: string): boolean {
  if (n.$ref) return matchesText(def(n.$ref.replace("#/$defs/", "")), text);
  if (n.anyOf) return n.anyOf.some((x) => matchesText(x, text));
  if (n.type !== undefined && n.type !== "string" && !(Array.isArray(n.type) && n.type.includes("string"))) return false;
  return n.pattern === undefined || new RegExp(n.pattern).test(text);
}

describe("scenario.schema.json", () => {
  it("has the parser's fields", () => {
    const top = schema as Node;
    expect(keys(top)).toEqual(sorted(SCENARIO_FIELDS.scenario));
    const pairs: [string, keyof typeof SCENARIO_FIELDS][] = [
      ["host", "host"],
      ["iommu", "iommu"],
      ["domain", "domain"],
      ["mapping", "mapping"],
      ["attachment", "attachment"],
      ["bar", "bar"],
      ["ntb", "ntb"],
      ["partition", "partition"],
      ["slot", "slot"],
      ["window", "window"],
      ["lutEntry", "lutEntry"],
      ["transaction", "transaction"],
      ["expect", "expect"],
    ];
    for (const [name, fields] of pairs) expect([name, keys(def(name))]).toEqual([name, sorted(SCENARIO_FIELDS[fields])]);
  });

  it("lists the parser's enums", () => {
    expect(def("host").properties!.log_format!.enum).toEqual([...LOG_FORMATS]);
    expect(def("expect").properties!.reason!.enum).toEqual([...OUTCOME_REASONS]);
  });

  it("accepts the quantities the parser accepts", () => {
    for (const s of ["0x9000_0000", "4096", "64K", "64KiB", "2MiB", "1g", "0x10 K", "1.5M", "K", "-4", "0x", "ten"]) {
      expect([s, matchesText(def("quantity"), s)]).toEqual([s, parseQuantity(s) !== undefined]);
    }
  });

  it("its worked example in docs/scenario.md loads and holds", () => {
    const md = readFileSync(new URL("../../../docs/scenario.md", import.meta.url), "utf8");
    const yaml = /```yaml\n(schema: iommu-atlas\/scenario@1[\s\S]*?)```/.exec(md)![1]!;
    const r = loadScenario(yaml);
    if (!r.ok) throw new Error(r.problems.map((p) => `${p.line}: ${p.message}`).join("; "));
    expect(r.simulation.run().passed).toBe(true);
  });
});
