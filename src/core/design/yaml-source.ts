import { LineCounter, isMap, isNode, isScalar, parseDocument } from "yaml";
import type { Document } from "yaml";
import type { z } from "zod";

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
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, ...(opts.failsafe && { schema: "failsafe" as const }) });
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((e) => ({ line: lineCounter.linePos(e.pos[0]).line, path: "", message: e.message.split("\n")[0]! })) };
  }
  return { ok: true, doc, lineOf: lineFinder(doc, lineCounter) };
}

/**
 * Parses YAML and validates it with a zod schema; every problem carries the
 * line of the offending node (or its nearest ancestor that exists).
 */
export function parseYaml<S extends z.ZodType>(text: string, schema: S, opts: YamlOptions = {}): YamlResult<z.output<S>> {
  const read = readYamlDocument(text, opts);
  if (!read.ok) return read;
  const { doc, lineOf } = read;
  const parsed = schema.safeParse(doc.toJS({ maxAliasCount: 100 }));
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
  try {
    const doc = parseDocument(text, { prettyErrors: false });
    if (doc.errors.length > 0 || !isMap(doc.contents)) return false;
    return doc.contents.items.some((p) => isScalar(p.key) && keys.includes(String(p.key.value)));
  } catch {
    return false;
  }
}
