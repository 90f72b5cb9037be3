// Types of boot.mjs.

import type { ChildProcess } from "node:child_process";
import type { Topology } from "./gen.mjs";

export declare const QEMU: string;
export declare const BUSYBOX: string;
export declare const running: Set<ChildProcess>;
export declare const KERNEL_PACKAGES: { readonly "6.1": "linux-image-amd64"; readonly "6.12": "linux-image-6.12-amd64" };
export declare function findKernel(dir?: string, series?: string): string | null;
export declare function kernelSeries(release: string): string | null;
export declare function payloadFormat(payload: Uint8Array): "gzip" | "xz" | "zstd" | "lz4" | "lzma" | "bzip2" | "lzo" | null;
export declare function extractVmlinux(bzImage: string): Buffer | null;
export declare function hasPvhNote(elf: Buffer): boolean;
export declare function writeInitramfs(dir: string, captureScript: string): string;

export interface BootResult {
  ok: boolean;
  capture?: Buffer;
  error?: string;
  seconds: number;
  consoleLog: string;
  qemuStderr: string;
}

export declare function bootTopology(
  topology: Topology,
  o: { kernel: string; initrd: string; workDir: string; timeoutMs?: number; qemu?: string; argsFor?: (consoleLog: string) => string[] },
): Promise<BootResult>;
export declare function shellQuote(argv: string[]): string;
