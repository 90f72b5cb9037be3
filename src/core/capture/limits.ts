/**
 * Limits a capture archive must stay within. A real capture is far inside
 * every one of them (a 65,536-function segment with 4 KiB of config space per
 * function is about 300 MB of tar in about 1.2 M entries); each stops one kind
 * of hostile archive without refusing a large legitimate one. Symlinks need no
 * depth limit: the readers resolve a link one step, never along a chain, so a
 * loop is just a link to a link; its target is bounded by `maxPathLength`.
 */
export interface CaptureLimits {
  /** bytes of one entry: sysfs attributes are a page, config space 4 KiB, ACPI tables a few KiB */
  readonly maxEntryBytes: number;
  /** entries in one archive (files, folders, links, tar metadata records) */
  readonly maxEntries: number;
  /** characters of one path or link target */
  readonly maxPathLength: number;
  /** decompressed bytes per compressed byte, checked once `ratioAfterBytes` have been produced */
  readonly maxRatio: number;
  readonly ratioAfterBytes: number;
}

export const CAPTURE_LIMITS: CaptureLimits = {
  maxEntryBytes: 16 * 1024 * 1024,
  maxEntries: 8_000_000,
  maxPathLength: 4096,
  // deflate cannot exceed about 1032:1; real captures compress 10-100:1
  maxRatio: 1000,
  ratioAfterBytes: 64 * 1024 * 1024,
};
