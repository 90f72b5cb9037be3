/**
 * One capture, read and reduced to what the fleet stores: the content
 * hashes, the host's identity and facts, and (for a machine not seen
 * before) its tree without the host-only files. Runs in the ingest workers.
 */
import { basename } from "node:path";
import type { FileTree } from "../../core/fs/file-tree.js";
import { CMDLINE_PATH, HOST_ONLY_PATHS, OSRELEASE_PATH, deviceKindCounts, hostFacts, hostIdentity } from "../../core/fleet/facts.js";
import type { DeviceKind, HostFacts, HostIdentity } from "../../core/fleet/facts.js";
import { readText } from "../../core/fs/file-tree.js";
import { predict } from "../../core/iommu/predict.js";
import { snapshotFromSysfs } from "../../core/sources/from-sysfs.js";
import { readSource } from "../sysfs/archive.js";
import { SourceError } from "../sysfs/errors.js";
import { treeHashes } from "./hash.js";
import { encodeMachineTree } from "./machine-tree.js";

export type HostFrom = "name" | "hostname";

export interface ParsedCapture {
  readonly file: string;
  /** the host's name in the fleet */
  readonly host: string;
  readonly hash: string;
  readonly machineHash: string;
  /** the machine's tree packed for the store (machine-tree.ts), only when `known` lacked machineHash */
  readonly machineTree: Uint8Array | undefined;
  readonly identity: HostIdentity;
  readonly osrelease: string | null;
  readonly cmdline: string | null;
  readonly facts: HostFacts;
  readonly kinds: Record<DeviceKind, { count: number; alone: number }>;
}

/** ok: `capture` is undefined when `hash` was stored already (nothing predicted) */
export type ParseOutcome =
  | { readonly ok: true; readonly hash: string; readonly capture: ParsedCapture | undefined }
  | { readonly ok: false; readonly file: string; readonly reason: string };

const HOST_ONLY = new Set(HOST_ONLY_PATHS);

/** what a capture's prediction gave, by machine and boot (see parseCapture) */
export type PredictionMemo = Map<string, { readonly facts: HostFacts; readonly kinds: ParsedCapture["kinds"] }>;

/** predictions a memo keeps; past that it starts again */
const MEMO_SIZE = 4096;

/** the file name without its capture suffix: `rack1-07.sysfs.tar.gz` → `rack1-07` */
export function nameFromFile(file: string): string {
  return basename(file.replace(/\/+$/, "")).replace(/(\.sysfs)?(\.tar\.gz|\.tgz|\.tar)$/i, "");
}

/** the tree without the host-only files: what machines share */
export function machineTree(tree: FileTree): FileTree {
  return new Map([...tree].filter(([k]) => !HOST_ONLY.has(k)));
}

/**
 * Reads and predicts one capture. `known` holds machine hashes whose trees
 * are stored already; this adds the ones it encodes. A capture whose hash
 * is in `knownCaptures` is not predicted. `memo` keeps predictions by
 * machine hash, osrelease and command line: the prediction reads nothing
 * else of the host-only files (DMI, host name), so hosts of one machine
 * booted alike are predicted once.
 */
export async function parseCapture(
  file: string,
  hostFrom: HostFrom,
  known: Set<string>,
  knownCaptures: ReadonlySet<string> = new Set(),
  memo: PredictionMemo = new Map(),
): Promise<ParseOutcome> {
  try {
    const tree = await readSource(file);
    const identity = hostIdentity(tree);
    const host = hostFrom === "hostname" ? identity.hostname : nameFromFile(file);
    if (!host) return { ok: false, file, reason: `${file}: no host name recorded; capture with --hostname, or ingest with --host-from name` };
    const hashes = treeHashes(tree, HOST_ONLY);
    // stored already: nothing to predict
    if (knownCaptures.has(hashes.tree)) return { ok: true, capture: undefined, hash: hashes.tree };
    const osrelease = readText(tree, OSRELEASE_PATH);
    const cmdline = readText(tree, CMDLINE_PATH);
    const key = JSON.stringify([hashes.without, osrelease ?? null, cmdline ?? null]);
    let predicted = memo.get(key);
    if (!predicted) {
      const snapshot = snapshotFromSysfs(tree);
      if (snapshot.topology.functions.size === 0) return { ok: false, file, reason: `${file}: no PCI functions in the capture; capture the host again` };
      const facts = hostFacts(snapshot, predict(snapshot));
      if (memo.size >= MEMO_SIZE) memo.clear();
      memo.set(key, (predicted = { facts, kinds: deviceKindCounts(facts.functions) }));
    }
    let stored: Uint8Array | undefined;
    if (!known.has(hashes.without)) {
      stored = encodeMachineTree(machineTree(tree));
      known.add(hashes.without);
    }
    return {
      ok: true,
      hash: hashes.tree,
      capture: {
        file,
        host,
        hash: hashes.tree,
        machineHash: hashes.without,
        machineTree: stored,
        identity,
        osrelease: osrelease?.trim() ?? null,
        cmdline: cmdline?.trim() ?? null,
        facts: predicted.facts,
        kinds: predicted.kinds,
      },
    };
  } catch (err) {
    if (err instanceof SourceError) return { ok: false, file, reason: `${file}: ${err.detail}` };
    const message = err instanceof Error ? err.message.split("\n")[0]! : String(err);
    return { ok: false, file, reason: `${file}: cannot predict this capture (internal error: ${message}); please report it with the capture` };
  }
}
