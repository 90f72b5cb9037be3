/**
 * `fleet ingest`: captures → worker threads (read, hash, predict) → the
 * store, in input order, a transaction per chunk. A bad capture is reported
 * and skipped; the batch goes on.
 */
import { existsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { progressBar } from "../progress.js";
import { systemErrorText } from "../sysfs/errors.js";
import type { Db } from "./db.js";
import type { HostFrom, ParseOutcome, ParsedCapture } from "./parse.js";
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

/** the compiled worker: beside this module, or in dist/ when this runs from the TypeScript sources */
function workerFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const f of [path.join(here, "ingest-worker.js"), path.resolve(here, "../../../dist/cli/fleet/ingest-worker.js")]) {
    if (existsSync(f)) return f;
  }
  throw new Error("the ingest worker is not built; run 'npm run build'");
}

/** parses `files` on `jobs` worker threads, handing outcomes to `take` in input order */
async function parseAll(
  files: readonly string[],
  hostFrom: HostFrom,
  known: { machines: string[]; captures: string[] },
  jobs: number,
  take: (o: ParseOutcome) => Promise<void>,
): Promise<void> {
  const file = workerFile();
  const workerData = { hostFrom, known: known.machines, knownCaptures: known.captures };
  const workers = Array.from({ length: Math.max(1, Math.min(jobs, files.length)) }, () => new Worker(file, { workerData }));
  const waiting = new Map<number, ParseOutcome>();
  let next = 0;
  let sent = 0;
  let failure: unknown;
  // consuming in order: one at a time, so the store sees captures in input order
  let consuming: Promise<void> = Promise.resolve();
  try {
    await new Promise<void>((resolve, reject) => {
      let finished = 0;
      const feed = (w: Worker): void => {
        if (sent < files.length) {
          const id = sent++;
          w.postMessage({ id, file: files[id] });
        }
      };
      for (const w of workers) {
        w.on("message", (msg: { id: number; outcome: ParseOutcome }) => {
          waiting.set(msg.id, msg.outcome);
          feed(w);
          consuming = consuming.then(async () => {
            while (waiting.has(next)) {
              const o = waiting.get(next)!;
              waiting.delete(next);
              next++;
              await take(o);
            }
            if (next === files.length && finished++ === 0) resolve();
          });
          consuming.catch((err: unknown) => {
            failure = err;
            reject(err);
          });
        });
        w.on("error", reject);
        // two captures in flight per worker, so a worker never waits for the main thread
        feed(w);
        feed(w);
      }
      if (files.length === 0) resolve();
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  if (failure) throw failure;
}

/** ingests `opts.inputs` into `db` */
export async function ingest(db: Db, opts: IngestOptions): Promise<IngestResult> {
  const { files, bad } = await listCaptures(opts.inputs);
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
  return { captures: files.length, added, replaced, unchanged, bad };
}
