// Types of targets.mjs.

export interface FuzzTarget {
  readonly what: string;
  readonly minBudgetMs?: number;
  generate(rng: unknown): Uint8Array;
  /** "model" or "error" (one clear line); throws FuzzFailure or the reader's own crash */
  check(bytes: Uint8Array, rng: unknown): "model" | "error";
}

export declare class FuzzFailure extends Error {}
export declare const TARGETS: Record<string, FuzzTarget>;
export declare const bombs: { readonly list: readonly Uint8Array[] };
export declare function checkErrorLine(line: string, file?: string): void;
export declare function inputOf(target: string, seed: number, index: number): { bytes: Uint8Array; rng: unknown };
export declare const fragmentBombs: readonly string[];
