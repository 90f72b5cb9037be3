// Types of archive.mjs.

export interface CaptureSummary {
  groups: Map<number, string[]>;
  devices: string[];
  cmdline: string | null;
  osrelease: string | null;
}

export declare function readCapture(archive: string | Uint8Array): CaptureSummary;
export declare function compareGroups(
  expected: Map<number, string[]>,
  actual: Map<number, string[]>,
): { sameMembership: boolean; sameNumbers: boolean; differences: string[] };
