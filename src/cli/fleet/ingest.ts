/**
 * `fleet ingest`: captures → worker threads (read, hash, predict) → the
 * store, in input order, a transaction per chunk. A bad capture is reported
 * and skipped; the batch goes on.
 */
import { existsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import { progressBar } from "../progress.js";
import { systemErrorText } from "../sysfs/errors.js";
import type { Db } from "./db.js";
import type { HostFrom, ParseOutcome, ParsedCapture } from "./parse.js";
import { runPool, workerFile } from "./pool.js";
import { storeCaptures } from "./store.js";
import { KNOWN_CAPTURES, KNOWN_MACHINES } from "./sql.js";

export interface IngestOptions {
  readonly inputs: readonly string[];
  readonly hostFrom: HostFrom;
  /** worker threads; default: one per core */
  readonly jobs?: number | undefined;
  /** draw a progress bar (on a terminal) */
  readonly progress?: boolean | undefined;
  /** captures per transaction */
  readonly chunk?: number | undefined;
}

export interface IngestResult {
  readonly captures: number;
  /** new hosts */
  readonly added: number;
  /** hosts whose stored capture a newer one replaced */
  readonly replaced: number;
  /** captures already stored (same tree): nothing done */
  readonly unchanged: number;
  readonly bad: readonly { readonly file: string; readonly reason: string }[];
}

const CAPTURE_NAME = /\.(tar\.gz|tgz|tar)$/i;

/**
 * The captures named by `inputs`: a file is a capture; a folder holding
 * sys/bus/pci is an extracted capture; any other folder is searched (depth
 * first, sorted) for .tar.gz / .tgz / .tar files and extracted captures.
 */
export async function listCaptures(inputs: readonly string[]): Promise<{ files: string[]; bad: { file: string; reason: string }[] }> {
  const files: string[] = [];
  const bad: { file: string; reason: string }[] = [];
  const walk = async (p: string, top: boolean): Promise<void> => {
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      bad.push({ file: p, reason: `${p}: ${systemErrorText(err)}` });
      return;
    }
    if (!st.isDirectory()) {
      if (top || CAPTURE_NAME.test(p)) files.push(p);
      return;
    }
    if (existsSync(path.join(p, "sys", "bus", "pci"))) {
      files.push(p);
      return;
    }
    let names: string[];
    try {
      names = (await readdir(p)).sort();
    } catch (err) {
      bad.push({ file: p, reason: `${p}: ${systemErrorText(err)}` });
      return;
    }
    for (const n of names) await walk(path.join(p, n), false);
  };
  for (const input of inputs) await walk(input, true);
  return { files, bad };
}

/** parses `files` on `jobs` worker threads, handing outcomes to `take` in input order */
async function parseAll(
  files: readonly string[],
  hostFrom: HostFrom,
  known: { machines: string[]; captures: string[] },
  jobs: number,
  take: (o: ParseOutcome) => Promise<void>,
): Promise<void> {
  const waiting = new Map<number, ParseOutcome>();
  let next = 0;
  await runPool<string, ParseOutcome>(workerFile("ingest-worker"), { hostFrom, known: known.machines, knownCaptures: known.captures }, files, jobs, async (id, o) => {
    waiting.set(id, o);
    while (waiting.has(next)) {
      const ready = waiting.get(next)!;
      waiting.delete(next);
      next++;
      await take(ready);
    }
  });
}

/** ingests `opts.inputs` into `db` */
export async function ingest(db: Db, opts: IngestOptions): Promise<IngestResult> {
  const { files, bad } = await listCaptures(opts.inputs);
  const unlisted = bad.length;
  const knownCaptures = new Set((await db.query<{ hash: string }>(KNOWN_CAPTURES)).map((r) => r.hash));
  const knownMachines = (await db.query<{ hash: string }>(KNOWN_MACHINES)).map((r) => r.hash);
  const chunk = opts.chunk ?? 500;
  const bar = progressBar("ingest", files.length, opts.progress ? process.stderr : null);
  let done = 0;
  let added = 0;
  let replaced = 0;
  let unchanged = 0;
  let pending: ParsedCapture[] = [];
  /** machine trees of captures not stored (unchanged): other captures may need them */
  let trees: { hash: string; tree: Uint8Array }[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0 && trees.length === 0) return;
    const r = await storeCaptures(db, pending, trees);
    added += r.added;
    replaced += r.replaced;
    pending = [];
    trees = [];
  };
  try {
    await parseAll(files, opts.hostFrom, { machines: knownMachines, captures: [...knownCaptures] }, opts.jobs ?? availableParallelism(), async (o) => {
      bar.update(++done);
      if (!o.ok) {
        bad.push({ file: o.file, reason: o.reason });
        return;
      }
      const c = o.capture;
      if (!c || knownCaptures.has(c.hash)) {
        unchanged++;
        if (c?.machineTree) trees.push({ hash: c.machineHash, tree: c.machineTree });
        return;
      }
      knownCaptures.add(c.hash);
      pending.push(c);
      if (pending.length >= chunk) await flush();
    });
    await flush();
  } finally {
    bar.done();
  }
  return { captures: files.length + unlisted, added, replaced, unchanged, bad };
}
