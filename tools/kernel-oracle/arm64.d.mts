export declare const ARM64_QEMU: string;
export declare const ARM64_UEFI: string;
export declare const ARM64_KERNELS: { label: string; meta: string }[];
export declare const MODULE_OF: Record<string, string>;
export interface Arm64Device {
  id: string;
  driver: string;
  bus: string;
  addr?: string;
  props?: Record<string, string | number>;
}
export interface Arm64Topology {
  name: string;
  description: string;
  devices: Arm64Device[];
  load: string[];
  vfs: number;
  acpi?: boolean;
  kernel_args?: string;
}
export declare const ARM64_INIT: string;
export declare function ensureArm64(
  cache: string,
  o: { install: boolean; kernels?: string[] },
): { kernels: { label: string; pkg: string; root: string; version: string; image: string }[]; busybox: string };
export declare function moduleWithDeps(modulesDir: string, name: string): { name: string; data: Buffer }[];
export declare function buildArm64Initramfs(input: {
  busybox: Uint8Array;
  captureScript: Uint8Array | string;
  modules: Record<string, { name: string; data: Buffer }[]>;
}): Buffer;
export declare function generateArm64Topology(seed: number): Arm64Topology;
export declare function arm64DeviceArgs(t: Arm64Topology): string[];
export declare function arm64Cmdline(t: Arm64Topology): string;
export declare function arm64QemuArgs(t: Arm64Topology, o: { kernel: string; initrd: string; consoleLog: string }): string[];
