/**
 * Ingest worker thread: parses the captures the main thread sends, one at a
 * time, and posts each outcome back. workerData: { hostFrom, known (machine
 * hashes stored), knownCaptures (capture hashes stored) }.
 */
import { parentPort, workerData } from "node:worker_threads";
import { parseCapture } from "./parse.js";
import type { HostFrom, PredictionMemo } from "./parse.js";

const { hostFrom, known, knownCaptures } = workerData as { hostFrom: HostFrom; known: string[]; knownCaptures: string[] };
const seen = new Set(known);
const stored = new Set(knownCaptures);
const memo: PredictionMemo = new Map();

parentPort!.on("message", (msg: { id: number; item: string }) => {
  void parseCapture(msg.item, hostFrom, seen, stored, memo).then((result) => {
    const tree = result.ok ? result.capture?.machineTree : undefined;
    parentPort!.postMessage({ id: msg.id, result }, tree ? [tree.buffer as ArrayBuffer] : []);
  });
});
