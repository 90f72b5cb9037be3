/**
 * `--json` written as it is made: the same bytes as
 * `JSON.stringify(value, null, 2)`, handed to a sink in pieces of about
 * 64 KiB, so a machine with 60,000 functions never becomes one string.
 * Containers with many values below them are walked here; small ones are
 * left to JSON.stringify and re-indented.
 */

/** values below a container up to which it is stringified whole */
const SMALL = 256;
const PIECE = 64 * 1024;

type Sink = (chunk: string) => void | Promise<void>;

/** JSON.stringify's view of a value: toJSON applied */
function jsonView(value: unknown, key: string): unknown {
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  return value;
}

/** left out of objects, null in arrays */
const omitted = (v: unknown): boolean => v === undefined || typeof v === "function" || typeof v === "symbol";

/** true when `v` holds at most `budget` values, counting stops there */
function small(v: unknown, budget: { left: number }): boolean {
  if (v === null || typeof v !== "object") return --budget.left >= 0;
  if (--budget.left < 0) return false;
  const values = Array.isArray(v) ? v : Object.values(v);
  for (const x of values) if (!small(x, budget)) return false;
  return true;
}

/** pieces of JSON.stringify(value, null, 2) at indentation `indent`; `v` is already the JSON view */
function* pieces(v: unknown, indent: string): Generator<string> {
  if (v !== null && typeof v === "object" && !small(v, { left: SMALL })) {
    const inner = `${indent}  `;
    if (Array.isArray(v)) {
      yield "[";
      for (let i = 0; i < v.length; i++) {
        yield `${i === 0 ? "" : ","}\n${inner}`;
        const item = jsonView(v[i], String(i));
        if (omitted(item)) yield "null";
        else yield* pieces(item, inner);
      }
      yield v.length === 0 ? "]" : `\n${indent}]`;
      return;
    }
    let first = true;
    for (const k of Object.keys(v)) {
      const item = jsonView((v as Record<string, unknown>)[k], k);
      if (omitted(item)) continue;
      yield `${first ? "{" : ","}\n${inner}${JSON.stringify(k)}: `;
      first = false;
      yield* pieces(item, inner);
    }
    yield first ? "{}" : `\n${indent}}`;
    return;
  }
  const text = JSON.stringify(v, null, 2);
  yield indent === "" ? text : text.replaceAll("\n", `\n${indent}`);
}

/**
 * Writes `JSON.stringify(value, null, 2)` and a newline to `sink` in
 * pieces, waiting whenever the sink asks to (back-pressure).
 */
export async function writeJson(value: unknown, sink: Sink): Promise<void> {
  let buf = "";
  for (const p of pieces(jsonView(value, ""), "")) {
    buf += p;
    if (buf.length >= PIECE) {
      await sink(buf);
      buf = "";
    }
  }
  await sink(`${buf}\n`);
}
