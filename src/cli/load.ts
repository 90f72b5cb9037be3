import { open, readFile, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { looksLikeCapture } from "../core/capture/index.js";
import { fileURLToPath } from "node:url";
import type { YamlProblem } from "../core/design/yaml-source.js";
import { snapshotFromText, yamlProblemText } from "../core/sources/from-input.js";
import { snapshotFromSysfs } from "../core/sources/from-sysfs.js";
import type { Snapshot } from "../core/sources/snapshot.js";
import { readSource } from "./sysfs/archive.js";
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
    (b) => new Uint8Array(b),
    (err: unknown) => {
      throw new SourceError(source, systemErrorText(err));
    },
  );
  const text = new TextDecoder("utf-8").decode(bytes);
  let r = snapshotFromText(text, source);
  // names without ids (no -nn): read the ids back through pci.ids
  if (r.ok && r.needsPciIds) {
    const pciIds = await loadPciIds();
    if (pciIds) r = snapshotFromText(text, source, { pciIds });
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

/** one line for the first problem of a YAML input, counting the rest */
export function yamlError(file: string, problems: readonly YamlProblem[]): InputError {
  return new InputError(yamlProblemText(file, problems));
}

/** a text input file (plan, scenario); a read failure is one line naming the file, ending with `hint` */
export async function readTextInput(file: string, hint: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new InputError(`${file}: ${errnoCode(err) === "ENOENT" ? "no such file" : systemErrorText(err)}; ${hint}`);
  }
}
