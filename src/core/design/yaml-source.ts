import { LineCounter, isMap, isNode, isScalar, parseDocument } from "yaml";
import type { Document } from "yaml";
import type { z } from "zod";
import { excerpt } from "../excerpt.js";
import { LIMITS, yamlLimitProblem } from "../limits.js";

/** a problem in a YAML input, pointing at its line and field */
export interface YamlProblem {
  readonly line: number;
  readonly path: string;
  readonly message: string;
}

export type YamlResult<T> = { readonly ok: true; readonly value: T; readonly doc: Document; readonly lineOf: (path: YamlPath, key?: string) => number } | { readonly ok: false; readonly problems: readonly YamlProblem[] };

export type YamlPath = readonly (string | number)[];

/** `devices[2].acs`; keys that are not plain words in quotes: `sriov["0000:81:00.0"]` */
export function dotPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => {
    if (typeof k === "number") return `${acc}[${k}]`;
    const key = String(k);
    if (/^\d+$/.test(key)) return `${acc}[${key}]`;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return `${acc}[${JSON.stringify(key)}]`;
    return acc ? `${acc}.${key}` : key;
  }, "");
}

/** the line of the node at `path`, or of its nearest ancestor that exists; `key` points at a map key instead */
export function lineFinder(doc: Document, lines: LineCounter): (path: YamlPath, key?: string) => number {
  return (path, key) => {
    if (key !== undefined) {
      const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
        if (pair && isNode(pair.key) && pair.key.range) return lines.linePos(pair.key.range[0]).line;
      }
    }
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return 1;
  };
}

export interface YamlOptions {
  /** keep every scalar as the text written (`0300` stays "0300"); zod then converts */
  readonly failsafe?: boolean;
}

/** parses YAML text into a document with a line finder, or YAML syntax problems */
export function readYamlDocument(text: string, opts: YamlOptions = {}): { ok: true; doc: Document; lineOf: ReturnType<typeof lineFinder> } | { ok: false; problems: YamlProblem[] } {
  const limit = yamlLimitProblem(text);
  if (limit) return { ok: false, problems: [{ ...limit, path: "" }] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, ...(opts.failsafe && { schema: "failsafe" as const }) });
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((e) => ({ line: lineCounter.linePos(e.pos[0]).line, path: "", message: e.message.split("\n")[0]! })) };
  }
  return { ok: true, doc, lineOf: lineFinder(doc, lineCounter) };
}

/** the document's plain value; aliases past LIMITS.yaml.aliases expansions (a "billion laughs") are a problem, not a throw */
export function docToJs(doc: Document): { ok: true; value: unknown } | { ok: false; problems: YamlProblem[] } {
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: LIMITS.yaml.aliases }) };
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    if (!/^Excessive alias/.test(err.message)) return { ok: false, problems: [{ line: 1, path: "", message: "an alias (*name) refers to no anchor (&name) before it; define the anchor first" }] };
    return { ok: false, problems: [{ line: 1, path: "", message: `anchors and aliases (*name) expand past ${LIMITS.yaml.aliases} copies; write the values out or use fewer aliases` }] };
  }
}

/**
 * Parses YAML and validates it with a zod schema; every problem carries the
 * line of the offending node (or its nearest ancestor that exists).
 */
export function parseYaml<S extends z.ZodType>(text: string, schema: S, opts: YamlOptions = {}): YamlResult<z.output<S>> {
  const read = readYamlDocument(text, opts);
  if (!read.ok) return read;
  const { doc, lineOf } = read;
  const js = docToJs(doc);
  if (!js.ok) return js;
  const parsed = schema.safeParse(js.value, { error: schemaWords });
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error.issues, lineOf) };
  return { ok: true, value: parsed.data, doc, lineOf };
}

/** zod issues as problems with the line of the offending node (an unknown key points at the key) */
export function zodProblems(issues: readonly z.core.$ZodIssue[], lineOf: (path: YamlPath, key?: string) => number): YamlProblem[] {
  return issues.map((i) => {
    const path = i.path.filter((k): k is string | number => typeof k !== "symbol");
    const key = i.code === "unrecognized_keys" ? i.keys[0] : undefined;
    return { line: lineOf(path, key), path: dotPath(path), message: i.message };
  });
}

/** true when the text is a YAML mapping with one of the given top-level keys */
export function yamlHasKey(text: string, keys: readonly string[]): boolean {
  // past the YAML limits it is no YAML input of ours; a key at the start of a line is one, even if the rest is broken
  if (yamlLimitProblem(text)) return false;
  if (keys.some((k) => new RegExp(`^${k}[ \t]*:`, "m").test(text))) return true;
  try {
    const doc = parseDocument(text, { prettyErrors: false });
    if (doc.errors.length > 0 || !isMap(doc.contents)) return false;
    return doc.contents.items.some((p) => isScalar(p.key) && keys.includes(String(p.key.value)));
  } catch {
    return false;
  }
}

/** a value as a person would name it: nothing, an empty value, the text 'x', a list, a map, 12 */
export function describeInput(input: unknown): string {
  if (input === undefined || input === null) return "nothing";
  if (typeof input === "string") return input === "" ? "an empty value" : `the text '${excerpt(input, 40)}'`;
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a map";
  return excerpt(String(input), 40);
}

const EXPECTED: Record<string, string> = { string: "a text value", array: "a list", object: "a map", record: "a map", number: "a number", boolean: "true or false", int: "a whole number", bigint: "a whole number" };

/**
 * A zod issue in the words a person uses ("required, but missing", "expected
 * a list, found the text 'x'") instead of zod's own ("Invalid input: expected
 * array, received string"); undefined keeps a schema's own message.
 */
export function schemaWords(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case "invalid_type":
      if (iss.input === undefined) return "required, but missing";
      if (iss.input === null && (iss.path ?? []).length === 0) return `the file is empty, expected ${EXPECTED[iss.expected] ?? iss.expected}`;
      return `expected ${EXPECTED[iss.expected] ?? iss.expected}, found ${describeInput(iss.input)}`;
    case "unrecognized_keys":
      return `unknown field${iss.keys.length > 1 ? "s" : ""} ${iss.keys.slice(0, 3).map((k) => `'${excerpt(k, 40)}'`).join(", ")}${iss.keys.length > 3 ? ` and ${iss.keys.length - 3} more` : ""}`;
    case "too_small":
      if (iss.origin === "array") return `needs at least ${String(iss.minimum)} entr${Number(iss.minimum) === 1 ? "y" : "ies"}`;
      if (iss.origin === "string") return Number(iss.minimum) <= 1 ? "must not be empty" : `needs at least ${String(iss.minimum)} characters`;
      return `must be at least ${String(iss.minimum)}`;
    case "too_big":
      if (iss.origin === "array") return `holds at most ${String(iss.maximum)} entries`;
      if (iss.origin === "string") return `holds at most ${String(iss.maximum)} characters`;
      return `must be at most ${String(iss.maximum)}`;
    case "invalid_value":
      return `expected ${iss.values.slice(0, 6).map((v) => `'${excerpt(String(v), 40)}'`).join(" or ")}${iss.values.length > 6 ? " or another accepted value" : ""}, found ${describeInput(iss.input)}`;
    case "invalid_union":
      return `found ${describeInput(iss.input)}, which is none of the accepted forms`;
    case "invalid_key":
      return iss.issues[0]?.message;
    case "invalid_format":
      return `not a valid ${iss.format}`;
    default:
      return undefined;
  }
}
