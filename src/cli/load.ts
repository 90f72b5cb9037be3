import { open, readFile, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { looksLikeCapture } from "../core/capture/read-capture.js";
import { fileURLToPath } from "node:url";
import type { YamlProblem } from "../core/design/yaml-source.js";
import { snapshotFromSysfs } from "../core/sources/from-sysfs.js";
import type { Snapshot } from "../core/sources/snapshot.js";
import { readSource } from "./sysfs/archive-read.js";
import { collectSysfs } from "./sysfs/collect.js";
import { binaryProblem } from "../core/limits.js";
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
    (b) => new Uint8Array(b),
    (err: unknown) => {
      throw new SourceError(source, systemErrorText(err));
    },
  );
  // text sources load their parsers only when one is given (start-up of the archive commands)
  const { snapshotFromBytes } = await import("../core/sources/from-input.js");
  let r = snapshotFromBytes(bytes, source);
  // names without ids (no -nn): read the ids back through pci.ids
  if (r.ok && r.needsPciIds) {
    const pciIds = await loadPciIds();
    if (pciIds) r = snapshotFromBytes(bytes, source, { pciIds });
  }
  if (!r.ok) throw new InputError(r.message);
  return { snapshot: r.snapshot, label: source };
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

/**
 * One line for the first problem of a YAML input, counting the rest; user
 * text in it is escaped and cut. `hint` (e.g. "see docs/plan.md") ends the
 * line when the message does not already say what to do.
 */
export async function yamlError(file: string, problems: readonly YamlProblem[], hint?: string): Promise<InputError> {
  // the text readers load only when a text input is given (start-up of the archive commands)
  const { yamlProblemText } = await import("../core/sources/from-input.js");
  return new InputError(yamlProblemText(file, problems, hint));
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
