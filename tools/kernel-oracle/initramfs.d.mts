// Types of initramfs.mjs.

export declare const BEGIN_MARKER: string;
export declare const END_MARKER: string;
export declare const INIT_SCRIPT: string;

export interface CpioEntry {
  name: string;
  type: "dir" | "file" | "symlink" | "char";
  perm?: number;
  data?: Uint8Array | string;
  target?: string;
  rdev?: [number, number];
}

export declare function cpioNewc(entries: CpioEntry[]): Buffer;
export declare function readCpioNewc(buf: Uint8Array): { name: string; mode: number; data: Buffer; rdev: [number, number] }[];
export declare function buildInitramfs(input: { busybox: Uint8Array; captureScript: Uint8Array | string }): Buffer;

export type SerialCapture = { ok: true; capture: Buffer; rc: string } | { ok: false; error: string; rc?: string };
export declare function parseSerialCapture(text: string): SerialCapture;
