/**
 * One reader for a user's input bytes or text, shared by the CLI and the web
 * page: tells lspci output from a design YAML, and words every problem as
 * the same single line (`label:line: what is wrong; what to do`).
 */
import { excerpt } from "../excerpt.js";
import { asUtf8, binaryProblem } from "../limits.js";
import { strFromU8 } from "fflate";
import { CaptureError, looksLikeCapture, readCapture } from "../capture/index.js";
import { snapshotFromDesign } from "../design/from-design.js";
import { yamlHasKey } from "../design/yaml-source.js";
import type { YamlProblem } from "../design/yaml-source.js";
import { looksLikeLspci, needsPciIds, snapshotFromLspci } from "../lspci/index.js";
import type { LspciOptions } from "../lspci/index.js";
import { snapshotFromSysfs } from "./from-sysfs.js";
import { SOURCE_HINT } from "./source-hint.js";
import type { Snapshot } from "./snapshot.js";

export type InputResult =
  /** needsPciIds: lspci names without numeric ids; reading again with `pciIds` recovers them */
  | { readonly ok: true; readonly snapshot: Snapshot; readonly needsPciIds?: boolean }
  | { readonly ok: false; readonly message: string };

export { SOURCE_HINT } from "./source-hint.js";

/** `label: what is wrong; what to do` for a capture archive that cannot be read */
export function captureErrorText(label: string, err: CaptureError): string {
  return `${label}: ${err.detail}; ${SOURCE_HINT}`;
}

/** a capture archive (.tar, .tar.gz) held in memory, with the CLI's limits and messages */
export function snapshotFromArchive(bytes: Uint8Array, label: string): InputResult {
  try {
    return { ok: true, snapshot: snapshotFromSysfs(readCapture(bytes)) };
  } catch (err) {
    if (err instanceof CaptureError) return { ok: false, message: captureErrorText(label, err) };
    throw err;
  }
}

const SOURCE_KINDS = "not lspci output, a capture archive or a design file";
const SOURCE_ACTION = "pass the output of 'sudo lspci -vvnn', a capture made by 'iommu-atlas capture', or a design YAML with a devices: list";

/**
 * Any input file's bytes: a capture archive, lspci output or a design, told
 * apart by content. Binary data that is none of them is refused with its
 * offset, never echoed.
 */
export function snapshotFromBytes(bytes: Uint8Array, label: string, opts: LspciOptions = {}): InputResult {
  if (looksLikeCapture(bytes.subarray(0, 512))) return snapshotFromArchive(bytes, label);
  const t = sourceText(bytes, label);
  return t.ok ? snapshotFromText(t.text, label, opts) : t;
}

/**
 * A text source's bytes (lspci output, a design) as text: UTF-8, or UTF-16
 * with its byte-order mark (what Windows PowerShell 5 writes with `>`).
 * Binary data is refused with its offset, never echoed.
 */
export function sourceText(bytes: Uint8Array, label: string): { ok: true; text: string } | { ok: false; message: string } {
  if (bytes.length === 0) return { ok: false, message: `${label}: the file is empty; ${SOURCE_ACTION}` };
  const utf8 = asUtf8(bytes);
  const binary = binaryProblem(utf8);
  if (binary) {
    const action = binary.what.endsWith("compressed data") ? `decompress it first (only gzip is read), or ${SOURCE_ACTION}` : SOURCE_ACTION;
    return { ok: false, message: `${label}: offset 0x${binary.offset.toString(16)}: ${binary.what}, ${SOURCE_KINDS}; ${action}` };
  }
  // UTF-8, bad sequences replaced (fflate uses the platform decoder when there is one)
  return { ok: true, text: strFromU8(utf8) };
}

/** longest message a YAML problem gives; past it the text is cut */
const MAX_PROBLEM_LENGTH = 400;

/**
 * One line for the first problem of a YAML input, counting the rest; user
 * text in it is escaped and cut. `hint` ends the line when the message does
 * not already say what to do.
 */
export function yamlProblemText(file: string, problems: readonly YamlProblem[], hint?: string): string {
  const p = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? "s" : ""})` : "";
  const message = excerpt(`${p.path ? `${p.path}: ` : ""}${p.message}`, MAX_PROBLEM_LENGTH);
  const tail = hint && !/docs\/|; /.test(message) ? `; ${hint}` : "";
  return `${file}:${p.line}: ${message}${more}${tail}`;
}

/** lspci output (any of the forms the reader knows) or a design YAML; `label` names the input in messages */
export function snapshotFromText(text: string, label: string, opts: LspciOptions = {}): InputResult {
  if (looksLikeLspci(text)) {
    const r = snapshotFromLspci(text, opts);
    if (!r.ok) return { ok: false, message: `${label}:${r.line}: ${r.reason}` };
    const notes = [
      ...r.snapshot.notes,
      ...(r.dumps > 1 ? [{ code: "lspci-dumps" as const, dumps: r.dumps, format: r.format }] : []),
      ...r.warnings.map((warning) => ({ code: "lspci" as const, warning })),
    ];
    return { ok: true, snapshot: { ...r.snapshot, notes }, needsPciIds: opts.pciIds === undefined && needsPciIds(r) };
  }
  if (yamlHasKey(text, ["devices"])) {
    const r = snapshotFromDesign(text);
    if (!r.ok) return { ok: false, message: yamlProblemText(label, r.problems, "see docs/design.md") };
    return { ok: true, snapshot: r.snapshot };
  }
  const action = SOURCE_ACTION;
  const lines = text.split(/\r?\n/, 1000);
  const first = lines.findIndex((l) => l.trim() !== "");
  if (first < 0) return { ok: false, message: `${label}: the file holds only blank lines; ${action}` };
  return { ok: false, message: `${label}:${first + 1}: ${SOURCE_KINDS} ('${excerpt(lines[first]!.trim(), 60)}'); ${action}` };
}
