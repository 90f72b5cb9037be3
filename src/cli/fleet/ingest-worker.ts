/**
 * Ingest worker thread: parses the captures the main thread sends, one at a
 * time, and posts each outcome back. workerData: { hostFrom, known }.
 */
import { parentPort, workerData } from "node:worker_threads";
import { parseCapture } from "./parse.js";
import type { HostFrom } from "./parse.js";

const { hostFrom, known } = workerData as { hostFrom: HostFrom; known: string[] };
const seen = new Set(known);

parentPort!.on("message", (msg: { id: number; file: string }) => {
  void parseCapture(msg.file, hostFrom, seen).then((outcome) => {
    const tree = outcome.ok ? outcome.capture.machineTree : undefined;
    parentPort!.postMessage({ id: msg.id, outcome }, tree ? [tree.buffer as ArrayBuffer] : []);
  });
});
