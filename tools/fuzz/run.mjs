#!/usr/bin/env node
// npm run fuzz — coverage-free, corpus-driven fuzzing of every reader. See docs/robustness.md.

import { fork } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, "../..");
const REPRODUCERS = join(HERE, "reproducers");

const USAGE = `usage: npm run fuzz -- [options]

Feeds every reader mutated real inputs and generated ones, each in a child process with a
time and memory budget. Failures are saved in tools/fuzz/reproducers/ with their seed and index.

  --minutes N      stop after N minutes (default 1)
  --target NAME    only these readers, comma-separated (default all; --list shows them)
  --seed S         campaign seed (default random, printed); the same seed gives the same inputs
  --inputs N       stop a reader after N inputs (default: no limit, time decides)
  --jobs J         child processes (default 2)
  --budget-ms MS   time one input may take (default 2000), plus --ms-per-mib per MiB of input
  --ms-per-mib MS  time allowed per MiB of input on top of --budget-ms (default 1000)
  --hang-s S       a batch that answers nothing for S seconds is a hang (default 60)
  --summary FILE   write the campaign's figures as JSON
  --replay FILE    run one saved reproducer (FILE.json beside it names the reader) and print the answer
  --list           print the readers and exit`;

const { values: opts } = parseArgs({
  options: {
    minutes: { type: "string", default: "1" },
    target: { type: "string" },
    seed: { type: "string" },
    inputs: { type: "string" },
    jobs: { type: "string", default: "2" },
    "budget-ms": { type: "string", default: "2000" },
    "ms-per-mib": { type: "string", default: "1000" },
    "hang-s": { type: "string", default: "60" },
    summary: { type: "string" },
    replay: { type: "string" },
    list: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}

function number(name, text, min = 0) {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) {
    console.error(`fuzz: --${name} ${text}: expected a number of at least ${min}`);
    process.exit(2);
  }
  return n;
}

const { TARGETS, inputOf } = await import("./targets.mjs");

if (opts.list) {
  for (const [name, t] of Object.entries(TARGETS)) console.log(`${name.padEnd(10)} ${t.what}`);
  process.exit(0);
}

if (opts.replay) {
  const meta = JSON.parse(readFileSync(`${opts.replay.replace(/\.bin$/, "")}.json`, "utf8"));
  const bytes = new Uint8Array(readFileSync(opts.replay.endsWith(".bin") ? opts.replay : `${opts.replay}.bin`));
  const { rng } = inputOf(meta.target, meta.seed, meta.index);
  const t0 = performance.now();
  try {
    console.log(`${meta.target}: ${TARGETS[meta.target].check(bytes, rng)} in ${(performance.now() - t0).toFixed(1)} ms`);
  } catch (err) {
    console.log(`${meta.target}: FAILS: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  }
  process.exit(0);
}

const seed = opts.seed === undefined ? randomInt(0, 2 ** 31) : number("seed", opts.seed);
const minutes = number("minutes", opts.minutes);
const jobs = Math.max(1, Math.floor(number("jobs", opts.jobs, 1)));
const budgetMs = number("budget-ms", opts["budget-ms"], 1);
const msPerMiB = number("ms-per-mib", opts["ms-per-mib"]);
const hangMs = number("hang-s", opts["hang-s"], 1) * 1000;
const cap = opts.inputs === undefined ? Infinity : number("inputs", opts.inputs, 1);
const names = opts.target ? opts.target.split(",").map((s) => s.trim()) : Object.keys(TARGETS);
for (const n of names) {
  if (!TARGETS[n]) {
    console.error(`fuzz: no reader named ${n}; --list shows them`);
    process.exit(2);
  }
}

console.log(`fuzz: seed ${seed}, ${names.length} readers, ${minutes} min, ${jobs} processes, budget ${budgetMs} ms + ${msPerMiB} ms per MiB per input`);
const started = Date.now();
const deadline = started + minutes * 60_000;

/** per reader: next index, inputs done, answers, the slowest input, failures */
const stats = new Map(names.map((n) => [n, { next: 0, done: 0, model: 0, error: 0, bytes: 0, slowest: { ms: 0, index: 0 }, failures: 0, batch: 50, rate: 0 }]));
/** batches whose child died or hung: re-run one input at a time to find the input */
const isolate = [];
const found = [];

function pickTarget() {
  let best;
  for (const [name, s] of stats) {
    if (s.next >= cap) continue;
    if (!best || s.next < stats.get(best).next) best = name;
  }
  return best;
}

/** reproducers kept per kind of failure (same reader, kind and message once quoted text and numbers are masked) */
const PER_SIGNATURE = 3;
const signatures = new Map();

function saveFailure(target, index, kind, message, extra = {}) {
  const signature = `${target}|${kind}|${message.replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/\d+/g, "N")}`;
  const seen = (signatures.get(signature) ?? 0) + 1;
  signatures.set(signature, seen);
  stats.get(target).failures++;
  found.push({ target, index, kind, message });
  if (seen > PER_SIGNATURE) return;
  mkdirSync(REPRODUCERS, { recursive: true });
  const base = join(REPRODUCERS, `${target}-s${seed}-i${index}`);
  let size = 0;
  try {
    const { bytes } = inputOf(target, seed, index);
    size = bytes.length;
    writeFileSync(`${base}.bin`, bytes);
  } catch (err) {
    message += ` (input could not be regenerated: ${err instanceof Error ? err.message : String(err)})`;
  }
  writeFileSync(`${base}.json`, `${JSON.stringify({ target, seed, index, kind, message, bytes: size, ...extra }, null, 2)}\n`);
  console.log(`fuzz: FAILURE ${target} #${index} (${kind}): ${message}\n      saved ${relative(REPO, base)}.bin; replay: npm run fuzz -- --replay ${relative(REPO, base)}.bin`);
}

function startChild() {
  const child = fork(join(HERE, "child.mjs"), [], { execArgv: ["--max-old-space-size=1024"], stdio: ["ignore", "ignore", "pipe", "ipc"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  return new Promise((resolveReady, rejectReady) => {
    child.once("message", (m) => (m.type === "ready" ? resolveReady({ child, lastStderr: () => stderr }) : rejectReady(new Error("child did not start"))));
    child.once("exit", (code) => rejectReady(new Error(`child exited ${code} before it started: ${stderr.trim().split("\n").slice(-3).join(" | ")}`)));
  });
}

/** runs one batch in `w`; resolves with the child's report, or {dead} when it crashed or hung */
function runBatch(w, job, timeoutMs) {
  return new Promise((resolveBatch) => {
    const started = Date.now();
    const timer = setTimeout(() => {
      cleanup();
      w.child.kill("SIGKILL");
      resolveBatch({ dead: "hang", detail: `no answer after ${((Date.now() - started) / 1000).toFixed(0)} s` });
    }, timeoutMs);
    const onMessage = (m) => {
      if (m.type !== "done") return;
      cleanup();
      resolveBatch(m);
    };
    const onExit = (code, signal) => {
      cleanup();
      const tail = w.lastStderr().trim().split("\n").filter((l) => l.trim() !== "").slice(-2).join(" | ").slice(0, 400);
      resolveBatch({ dead: "crash", detail: `process ended (${signal ?? `exit ${code}`})${tail ? `: ${tail}` : ""}` });
    };
    const cleanup = () => {
      clearTimeout(timer);
      w.child.off("message", onMessage);
      w.child.off("exit", onExit);
    };
    w.child.on("message", onMessage);
    w.child.on("exit", onExit);
    w.child.send(job);
  });
}

function record(s, m) {
  s.done += m.count;
  s.model += m.kinds.model;
  s.error += m.kinds.error;
  s.bytes += m.bytes;
  if (m.slowest.ms > s.slowest.ms) s.slowest = m.slowest;
}

async function worker() {
  let w = await startChild();
  for (;;) {
    let job;
    let single = false;
    if (isolate.length > 0) {
      job = isolate.shift();
      single = true;
    } else {
      if (Date.now() >= deadline) break;
      const target = pickTarget();
      if (target === undefined) break;
      const s = stats.get(target);
      const count = Math.max(1, Math.min(s.batch, cap - s.next));
      job = { target, seed, from: s.next, count, budgetMs, msPerMiB };
      s.next += count;
    }
    const t0 = Date.now();
    const m = await runBatch(w, job, hangMs);
    const s = stats.get(job.target);
    if (m.dead) {
      if (single) {
        s.done++;
        saveFailure(job.target, job.from, m.dead, m.detail);
      } else {
        for (let i = job.from; i < job.from + job.count; i++) isolate.push({ ...job, from: i, count: 1 });
        console.log(`fuzz: ${job.target} batch #${job.from}..#${job.from + job.count - 1}: ${m.dead} (${m.detail}); re-running its inputs one by one`);
      }
      w = await startChild();
      continue;
    }
    record(s, m);
    for (const f of m.failures) saveFailure(job.target, f.index, f.kind, f.message, f.stack ? { stack: f.stack } : {});
    if (m.count < job.count) {
      // the child stopped early (memory budget): the rest of the batch again, in a fresh process
      isolate.push({ ...job, from: job.from + m.count, count: job.count - m.count });
      w.child.kill("SIGKILL");
      w = await startChild();
    }
    if (!single) {
      // batches of about two seconds
      const ms = Math.max(1, Date.now() - t0);
      s.rate = (m.count / ms) * 1000;
      s.batch = Math.max(1, Math.min(20000, Math.round(s.rate * 2)));
    }
  }
  w.child.kill("SIGKILL");
}

let lastReport = Date.now();
const progress = setInterval(() => {
  if (Date.now() - lastReport < 60_000) return;
  lastReport = Date.now();
  const mins = ((Date.now() - started) / 60000).toFixed(1);
  console.log(`fuzz: ${mins} min: ${[...stats].map(([n, s]) => `${n} ${s.done}`).join(", ")}; ${found.length} failures`);
}, 5000);

await Promise.all(Array.from({ length: jobs }, () => worker()));
clearInterval(progress);

const seconds = (Date.now() - started) / 1000;
const rows = [...stats].map(([name, s]) => ({ reader: name, inputs: s.done, models: s.model, errors: s.error, failures: s.failures, megabytes: +(s.bytes / 1e6).toFixed(1), slowestMs: +s.slowest.ms.toFixed(1), slowestIndex: s.slowest.index }));
console.log(`\nfuzz: seed ${seed}, ${(seconds / 60).toFixed(1)} min, node ${process.version}`);
console.log("| reader | inputs | models | one-line errors | failures | MB fed | slowest input |");
console.log("|---|---:|---:|---:|---:|---:|---:|");
for (const r of rows) console.log(`| ${r.reader} | ${r.inputs.toLocaleString("en")} | ${r.models.toLocaleString("en")} | ${r.errors.toLocaleString("en")} | ${r.failures} | ${r.megabytes} | ${r.slowestMs} ms (#${r.slowestIndex}) |`);
if (signatures.size > 0) {
  console.log("\nfailure kinds (reproducers in tools/fuzz/reproducers/):");
  for (const [sig, n] of [...signatures].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(7)}  ${sig.slice(0, 200)}`);
}
if (opts.summary) writeFileSync(opts.summary, `${JSON.stringify({ seed, minutes: +(seconds / 60).toFixed(2), jobs, budgetMs, msPerMiB, node: process.version, readers: rows, failures: found }, null, 2)}\n`);
process.exit(found.length > 0 ? 1 : 0);
