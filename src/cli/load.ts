import { open, readFile, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { looksLikeCapture } from "../core/capture/index.js";
import { fileURLToPath } from "node:url";
import { snapshotFromDesign } from "../core/design/from-design.js";
import { yamlHasKey } from "../core/design/yaml-source.js";
import type { YamlProblem } from "../core/design/yaml-source.js";
import { excerpt } from "../core/excerpt.js";
import { binaryProblem } from "../core/limits.js";
import { looksLikeLspci, needsPciIds, snapshotFromLspci } from "../core/lspci/index.js";
import type { PciIds } from "../core/pci-ids/pci-ids.js";
import { snapshotFromSysfs } from "../core/sources/from-sysfs.js";
import type { Snapshot } from "../core/sources/snapshot.js";
import { decodeArchive, readSource } from "./sysfs/archive.js";
import { collectSysfs } from "./sysfs/collect.js";
import { InputError } from "./errors.js";
import { loadPciIds } from "./pci-ids.js";
import { SourceError, errnoCode, systemErrorText } from "./sysfs/errors.js";

export interface Loaded {
  readonly snapshot: Snapshot;
  /** how to name the source in output: a path, "this host" or the bundled example */
  readonly label: string;
}

/** the real capture bundled for hosts without IOMMU groups */
export const BUNDLED_EXAMPLE = fileURLToPath(new URL("../../examples/captures/pcie-pci-bridge-alias.sysfs.tar.gz", import.meta.url));

/** reads the live host's sysfs */
export async function loadLive(root = "/"): Promise<Loaded> {
  const { tree } = await collectSysfs(root);
  return { snapshot: snapshotFromSysfs(tree), label: root === "/" ? "this host" : root };
}

/**
 * Reads SOURCE, telling the kind from the content: a sysfs folder, a
 * capture archive (.tar/.tar.gz); no SOURCE means the live host.
 */
export async function loadSource(source: string | undefined): Promise<Loaded> {
  if (source === undefined) return loadLive();
  const st = await stat(source).catch((err: unknown) => {
    throw new SourceError(source, errnoCode(err) === "ENOENT" ? "no such file or folder" : systemErrorText(err));
  });
  if (st.isDirectory() || looksLikeCapture(await readHead(source))) {
    return { snapshot: snapshotFromSysfs(await readSource(source)), label: source };
  }
  const bytes = await readFile(source).then(
    (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
    (err: unknown) => {
      throw new SourceError(source, systemErrorText(err));
    },
  );
  // lspci names without ids (no -nn): the ids are read back through pci.ids
  let pciIds: PciIds | undefined;
  if (!looksLikeCapture(bytes) && !binaryProblem(bytes)) {
    const text = new TextDecoder("utf-8").decode(bytes);
    if (looksLikeLspci(text) && needsPciIds(snapshotFromLspci(text))) pciIds = await loadPciIds();
  }
  return snapshotFromBytes(bytes, source, pciIds);
}

const SOURCE_KINDS = "not lspci output, a capture archive or a design file";
const SOURCE_ACTION = "pass the output of 'sudo lspci -vvnn', a capture made by 'iommu-atlas capture', or a design YAML with a devices: list";

/**
 * A source file's bytes as a snapshot, the kind told from the content: a
 * capture archive, lspci text or a design. `source` names the file in errors.
 *
 * @throws SourceError or InputError, each one line that never echoes binary data
 */
export function snapshotFromBytes(bytes: Uint8Array, source: string, pciIds?: PciIds): Loaded {
  if (looksLikeCapture(bytes)) return { snapshot: snapshotFromSysfs(decodeArchive(bytes, source)), label: source };
  if (bytes.length === 0) throw new InputError(`${source}: the file is empty; ${SOURCE_ACTION}`);
  const binary = binaryProblem(bytes);
  if (binary) {
    const action = binary.what.endsWith("compressed data") ? "decompress it first (only gzip is read), or " + SOURCE_ACTION : SOURCE_ACTION;
    throw new InputError(`${source}: offset 0x${binary.offset.toString(16)}: ${binary.what}, ${SOURCE_KINDS}; ${action}`);
  }
  const text = new TextDecoder("utf-8").decode(bytes);
  if (looksLikeLspci(text)) {
    let r = snapshotFromLspci(text);
    if (pciIds && needsPciIds(r)) r = snapshotFromLspci(text, { pciIds });
    if (!r.ok) throw new InputError(`${source}:${r.line}: ${r.reason}`);
    const notes = [
      ...r.snapshot.notes,
      ...(r.dumps > 1 ? [{ code: "lspci-dumps" as const, dumps: r.dumps, format: r.format }] : []),
      ...r.warnings.map((warning) => ({ code: "lspci" as const, warning })),
    ];
    return { snapshot: { ...r.snapshot, notes }, label: source };
  }
  if (yamlHasKey(text, ["devices"])) {
    const r = snapshotFromDesign(text);
    if (!r.ok) throw yamlError(source, r.problems, "see docs/design.md");
    return { snapshot: r.snapshot, label: source };
  }
  const lines = text.split(/\r?\n/, 1000);
  const first = lines.findIndex((l) => l.trim() !== "");
  if (first < 0) throw new InputError(`${source}: the file holds only blank lines; ${SOURCE_ACTION}`);
  throw new InputError(`${source}:${first + 1}: ${SOURCE_KINDS} ('${excerpt(lines[first]!.trim(), 60)}'); ${SOURCE_ACTION}`);
}

/** the first 512 bytes of a file: enough to tell a capture archive from text */
async function readHead(file: string): Promise<Uint8Array> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, "r");
    const buf = new Uint8Array(512);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } catch (err) {
    throw new SourceError(file, systemErrorText(err));
  } finally {
    await handle?.close();
  }
}

/** longest message a YAML problem gives; past it the text is cut */
const MAX_PROBLEM_LENGTH = 400;

/**
 * One line for the first problem of a YAML input, counting the rest; user
 * text in it is escaped and cut. `hint` (e.g. "see docs/plan.md") ends the
 * line when the message does not already say what to do.
 */
export function yamlError(file: string, problems: readonly YamlProblem[], hint?: string): InputError {
  const p = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? "s" : ""})` : "";
  const message = excerpt(`${p.path ? `${p.path}: ` : ""}${p.message}`, MAX_PROBLEM_LENGTH);
  const tail = hint && !/docs\/|; /.test(message) ? `; ${hint}` : "";
  return new InputError(`${file}:${p.line}: ${message}${more}${tail}`);
}

/**
 * A text input file (plan, scenario): read failures and binary content are
 * one line naming the file, ending with `hint`.
 */
export async function readTextInput(file: string, hint: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new InputError(`${file}: ${errnoCode(err) === "ENOENT" ? "no such file" : systemErrorText(err)}; ${hint}`);
  }
  return textFromBytes(bytes, file, hint);
}

/** a text input's bytes as text; binary data is refused with its offset, never echoed */
export function textFromBytes(bytes: Uint8Array, file: string, hint: string): string {
  const binary = binaryProblem(bytes);
  if (binary) throw new InputError(`${file}: offset 0x${binary.offset.toString(16)}: ${binary.what}, not a YAML text; ${hint}`);
  return new TextDecoder("utf-8").decode(bytes);
}
