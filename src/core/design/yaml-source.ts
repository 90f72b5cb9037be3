import { LineCounter, isMap, isNode, isScalar, parseDocument } from "yaml";
import type { Document } from "yaml";
import type { z } from "zod";

/** a problem in a YAML input, pointing at its line and field */
export interface YamlProblem {
  readonly line: number;
  readonly path: string;
  readonly message: string;
}

export type YamlResult<T> = { readonly ok: true; readonly value: T; readonly doc: Document; readonly lineOf: (path: readonly (string | number)[]) => number } | { readonly ok: false; readonly problems: readonly YamlProblem[] };

/** `devices[2].acs` */
export function dotPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === "number" ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), "");
}

/**
 * Parses YAML and validates it with a zod schema; every problem carries the
 * line of the offending node (or its nearest ancestor that exists).
 */
export function parseYaml<S extends z.ZodType>(text: string, schema: S): YamlResult<z.output<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({ line: e.linePos?.[0]?.line ?? 1, path: "", message: e.message.split("\n")[0]! })),
    };
  }
  const lineOf = (path: readonly (string | number)[]): number => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return 1;
  };
  const parsed = schema.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => {
        const path = i.path.filter((k): k is string | number => typeof k !== "symbol");
        return { line: lineOf(path), path: dotPath(path), message: i.message };
      }),
    };
  }
  return { ok: true, value: parsed.data, doc, lineOf };
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
