/** `fleet whatif` worker thread: one stored machine per message (whatif-machine.ts) */
import { parentPort, workerData } from "node:worker_threads";
import type { PredictOptions } from "../../core/iommu/predict.js";
import { whatIfMachine } from "./whatif-machine.js";
import type { MachineTask } from "./whatif-machine.js";

const { options } = workerData as { options: PredictOptions };

parentPort!.on("message", (msg: { id: number; item: MachineTask }) => {
  parentPort!.postMessage({ id: msg.id, result: whatIfMachine(msg.item, options) });
});
