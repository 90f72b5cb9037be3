/**
 * A small pool of worker threads: each item goes to a worker as
 * `{ id, item }`; each worker answers `{ id, result }` once per item.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

/**
 * A compiled worker module of this folder: beside this module (dist/cli/fleet),
 * else in the package's dist/cli/fleet, the package found by walking up to its
 * package.json (from the CLI bundle in dist/bundle, or from the TypeScript
 * sources under vitest).
 */
export function workerFile(name: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, `${name}.js`);
  if (existsSync(beside)) return beside;
  for (let dir = here; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) {
      const built = path.join(dir, "dist/cli/fleet", `${name}.js`);
      if (existsSync(built)) return built;
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`the ${name} thread is not built; run 'npm run build'`);
}

/**
 * Runs `items` on up to `jobs` workers of `file` (two items in flight per
 * worker, so none waits for the main thread). `take` sees each result as
 * it arrives, in any order; the pool waits for every `take` to finish.
 */
export async function runPool<T, R>(file: string, workerData: unknown, items: readonly T[], jobs: number, take: (id: number, result: R) => Promise<void> | void): Promise<void> {
  if (items.length === 0) return;
  const workers = Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, () => new Worker(file, { workerData }));
  let sent = 0;
  let received = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (w: Worker): void => {
        if (sent < items.length) {
          const id = sent++;
          w.postMessage({ id, item: items[id] });
        }
      };
      let pending: Promise<void> = Promise.resolve();
      for (const w of workers) {
        w.on("message", (msg: { id: number; result: R }) => {
          feed(w);
          pending = pending.then(() => take(msg.id, msg.result));
          pending.then(() => {
            if (++received === items.length) resolve();
          }, reject);
        });
        w.on("error", reject);
        feed(w);
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
