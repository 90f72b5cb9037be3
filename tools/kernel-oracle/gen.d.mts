// Types of gen.mjs (plain JavaScript so that Node 20 runs it without a build step).

export interface TopologyDevice {
  id: string;
  driver: string;
  bus: string;
  addr?: string;
  props?: Record<string, string | number>;
}

export interface Topology {
  name: string;
  description: string;
  devices: TopologyDevice[];
  kernel_args?: string;
  iommu?: "amd" | "intel";
}

export interface GenerateOptions {
  iommu?: "intel" | "amd";
  maxDevices?: number;
}

export interface QemuOptions {
  kernel: string;
  initrd: string;
  consoleLog: string;
  memoryMb?: number;
}

export declare function mulberry32(seed: number): () => number;
export declare const ROOT_PORT_DRIVERS: string[];
export declare const DOWNSTREAM_PORT_DRIVERS: string[];
export declare const UPSTREAM_PORT_DRIVERS: string[];
export declare const PCI_BRIDGE_DRIVERS: string[];
export declare const EXPANDER_DRIVERS: string[];
export declare const NIC_DRIVERS: string[];
export declare const AMD_IOMMU_BDF: string;
export declare const BASE_CMDLINE_INTEL: string;
export declare const BASE_CMDLINE_AMD: string;
export declare function busKindOf(driver: string): "port" | "switch" | "pci" | "expander" | null;
export declare function generateTopology(seed: number, options?: GenerateOptions): Topology;
export declare function addr(slot: number, fn: number): string;
export declare function bdf(bus: number, slot: number, fn: number): string;
export declare function describeFeatures(t: Topology): string[];
export declare function parseAddr(s: string): { slot: number; fn: number } | null;
export declare function validateTopology(t: Topology): string[];
export declare function scansAllBelowPorts(t: Topology): boolean;
export declare function expectedBdfs(t: Topology): Map<string, string | null>;
export declare function expectedGuestBdfs(t: Topology): string[];
export declare function kernelCmdline(t: Topology): string;
export declare function deviceArgs(t: Topology): string[];
export declare function qemuArgs(t: Topology, o: QemuOptions): string[];
