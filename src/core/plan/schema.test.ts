/**
 * docs/schemas/plan.schema.json documents the plan format; these checks keep
 * it in step with the parser: the same fields, and patterns that accept
 * what the parser accepts.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseBdf } from "../topology/address.js";
import { PLAN_FIELDS, parsePlan } from "./parse.js";
import { parseRid, parseSelector } from "./select.js";

interface Node {
  properties?: Record<string, Node>;
  items?: Node;
  $ref?: string;
  pattern?: string;
  anyOf?: Node[];
  oneOf?: Node[];
}
const schema = JSON.parse(readFileSync(new URL("../../../docs/schemas/plan.schema.json", import.meta.url), "utf8")) as Node & { $defs: Record<string, Node> };
const def = (name: string): Node => schema.$defs[name]!;
const keys = (n: Node): string[] => Object.keys(n.properties ?? {}).sort();
const sorted = (a: readonly string[]): string[] => [...a].sort();

function matches(n: Node, text: string): boolean {
  if (n.$ref) return matches(def(n.$ref.replace("#/$defs/", "")), text);
  if (n.pattern && !new RegExp(n.pattern).test(text)) return false;
  if (n.anyOf && !n.anyOf.some((x) => matches(x, text))) return false;
  return true;
}

const SAMPLES = ["0000:01:00.0", "01:00.0", "1:0.0", "abcd:ff:1f.7", "ff:20.0", "10de:1b80", "0300", "030000", "0x0300", "class:03", "class:0c03", "class:0c0330", "gpu", "01:00", "0000:01:00.8", "00.4", "1f.7", "20.0", "12345", "class:3"];

describe("plan.schema.json", () => {
  it("has the parser's fields", () => {
    expect(keys(schema)).toEqual(sorted(PLAN_FIELDS.plan));
    expect(keys(def("guest"))).toEqual(sorted(PLAN_FIELDS.guest));
    expect(keys(def("deviceEntry").oneOf![1]!)).toEqual(sorted(PLAN_FIELDS.deviceEntry));
    expect(keys(def("aliasRequest"))).toEqual(sorted(PLAN_FIELDS.aliasRequest));
  });

  it("accepts the selectors, addresses and requester IDs the parser accepts, and no others", () => {
    for (const s of SAMPLES) {
      expect([s, matches(def("selector"), s)]).toEqual([s, parseSelector(s) !== undefined]);
      expect([s, matches(def("bdf"), s)]).toEqual([s, parseBdf(s) !== undefined]);
      expect([s, matches(def("requesterId"), s)]).toEqual([s, parseRid(s) !== undefined]);
    }
  });

  it("its worked example in docs/plan.md parses", () => {
    const md = readFileSync(new URL("../../../docs/plan.md", import.meta.url), "utf8");
    const example = /```yaml\n([\s\S]*?)```/.exec(md)![1]!;
    const r = parsePlan(example, "plan.md");
    expect(r.ok ? [] : r.problems).toEqual([]);
  });
});
