/**
 * Ingest worker thread: parses the captures the main thread sends, one at a
 * time, and posts each outcome back. workerData: { hostFrom, known (machine
 * hashes stored), knownCaptures (capture hashes stored) }.
 */
import { parentPort, workerData } from "node:worker_threads";
import { parseCapture } from "./parse.js";
import type { HostFrom } from "./parse.js";

const { hostFrom, known, knownCaptures } = workerData as { hostFrom: HostFrom; known: string[]; knownCaptures: string[] };
const seen = new Set(known);
const stored = new Set(knownCaptures);

parentPort!.on("message", (msg: { id: number; file: string }) => {
  void parseCapture(msg.file, hostFrom, seen, stored).then((outcome) => {
    const tree = outcome.ok ? outcome.capture?.machineTree : undefined;
    parentPort!.postMessage({ id: msg.id, outcome }, tree ? [tree.buffer as ArrayBuffer] : []);
  });
});
