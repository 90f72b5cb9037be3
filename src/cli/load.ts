import { stat } from "node:fs/promises";
import { looksLikeCapture } from "../core/capture/read-capture.js";
import { fileURLToPath } from "node:url";
import type { YamlProblem } from "../core/design/yaml-source.js";
import { snapshotFromSysfs } from "../core/sources/from-sysfs.js";
import type { Snapshot } from "../core/sources/snapshot.js";
import { readArchive, readSource } from "./sysfs/archive-read.js";
import { collectSysfs } from "./sysfs/collect.js";
import { LIMITS, SOURCE_TOO_LARGE, YAML_TOO_LARGE, asUtf8, binaryProblem } from "../core/limits.js";
import { InputError } from "./errors.js";
import { InputChunks, inputLabel, readText, readTextFile } from "./input.js";
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
 * capture archive (.tar/.tar.gz), lspci text or a design; a file, a pipe or
 * `-` for standard input. No SOURCE means the live host. `keepBytes`: also
 * return the file's bytes as read (not for a folder).
 */
export async function loadSource(source: string | undefined, keepBytes = false): Promise<Loaded & { bytes?: Uint8Array }> {
  if (source === undefined) return loadLive();
  const label = inputLabel(source);
  let size: number | undefined;
  if (source !== "-") {
    const st = await stat(source).catch((err: unknown) => {
      throw new SourceError(source, errnoCode(err) === "ENOENT" ? "no such file or folder" : systemErrorText(err));
    });
    if (st.isDirectory()) return { snapshot: snapshotFromSysfs(await readSource(source)), label };
    if (st.isFile()) size = st.size;
  }
  const input = new InputChunks(source, (detail) => new SourceError(label, detail));
  try {
    if (looksLikeCapture(await input.head(512))) {
      const kept: Uint8Array[] | undefined = keepBytes ? [] : undefined;
      const snapshot = snapshotFromSysfs(await readArchive(input, size, kept));
      return { snapshot, label, ...(kept ? { bytes: Buffer.concat(kept) } : {}) };
    }
    const { bytes, tooLarge } = await readText(input, LIMITS.lspci.bytes);
    if (tooLarge) throw new InputError(`${label}:1: ${SOURCE_TOO_LARGE}`);
    // text sources load their parsers only when one is given (start-up of the archive commands)
    const { snapshotFromBytes } = await import("../core/sources/from-input.js");
    let r = snapshotFromBytes(bytes, label);
    // names without ids (no -nn): read the ids back through pci.ids
    if (r.ok && r.needsPciIds) {
      const pciIds = await loadPciIds();
      if (pciIds) r = snapshotFromBytes(bytes, label, { pciIds });
    }
    if (!r.ok) throw new InputError(r.message);
    return { snapshot: r.snapshot, label, ...(keepBytes ? { bytes } : {}) };
  } finally {
    input.close();
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
  const label = inputLabel(file);
  const { bytes, tooLarge } = await readTextFile(file, LIMITS.yaml.bytes, (detail) => new InputError(`${label}: ${/\(ENOENT\)$/.test(detail) ? "no such file" : detail}; ${hint}`));
  if (tooLarge) throw new InputError(`${label}:1: ${YAML_TOO_LARGE}`);
  return textFromBytes(bytes, label, hint);
}

/** a text input's bytes as text; binary data is refused with its offset, never echoed */
export function textFromBytes(bytes: Uint8Array, file: string, hint: string): string {
  const utf8 = asUtf8(bytes);
  const binary = binaryProblem(utf8);
  if (binary) throw new InputError(`${file}: offset 0x${binary.offset.toString(16)}: ${binary.what}, not a YAML text; ${hint}`);
  return new TextDecoder("utf-8").decode(utf8);
}
