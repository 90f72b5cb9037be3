// One fuzzing process: runs batches of inputs the parent hands it and reports counts,
// the slowest input and every failure. A crash, hang or memory blow-up kills only this
// process; the parent then finds the input by re-running the batch one input at a time.

import { performance } from "node:perf_hooks";
import { TARGETS, inputOf } from "./targets.mjs";

/** resident memory past which an input counts as a memory blow-up */
const RSS_LIMIT = Number(process.env.FUZZ_RSS_MB ?? 1536) * 1024 * 1024;

function describe(err) {
  if (err instanceof Error) return `${err.name}: ${err.message.split("\n")[0]}`.slice(0, 500);
  return String(err).slice(0, 500);
}

process.on("message", (job) => {
  const { target, seed, from, count, budgetMs, msPerMiB } = job;
  const t = TARGETS[target];
  const failures = [];
  const kinds = { model: 0, error: 0 };
  let slowest = { ms: 0, index: from };
  let bytes = 0;
  for (let index = from; index < from + count; index++) {
    let input;
    try {
      input = inputOf(target, seed, index);
    } catch (err) {
      failures.push({ index, kind: "generator", message: describe(err) });
      continue;
    }
    bytes += input.bytes.length;
    const start = performance.now();
    let verdict;
    try {
      verdict = t.check(input.bytes, input.rng);
      if (verdict !== "model" && verdict !== "error") failures.push({ index, kind: "result", message: `answered ${String(verdict)}` });
      else kinds[verdict]++;
    } catch (err) {
      failures.push({ index, kind: err?.name === "FuzzFailure" ? "bad answer" : "crash", message: describe(err), stack: err instanceof Error ? err.stack?.split("\n").slice(1, 6).join("\n") : undefined });
    }
    const ms = performance.now() - start;
    if (ms > slowest.ms) slowest = { ms, index };
    // linear time: a fixed budget plus so much per MiB of input
    const allowed = Math.max(budgetMs, t.minBudgetMs ?? 0) + (input.bytes.length / 2 ** 20) * msPerMiB;
    if (ms > allowed) failures.push({ index, kind: "time budget", message: `took ${ms.toFixed(0)} ms, budget ${allowed.toFixed(0)} ms (${input.bytes.length} bytes)` });
    if (process.memoryUsage.rss() > RSS_LIMIT) {
      failures.push({ index, kind: "memory budget", message: `resident memory ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MiB after this input, budget ${RSS_LIMIT / 2 ** 20} MiB` });
      process.send({ type: "done", target, from, count: index - from + 1, failures, kinds, slowest, bytes }, () => process.exit(0));
      return;
    }
  }
  process.send({ type: "done", target, from, count, failures, kinds, slowest, bytes });
});

process.send({ type: "ready", targets: Object.keys(TARGETS) });
