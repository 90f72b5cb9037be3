// Types of mutate.mjs.

export declare class Rng {
  constructor(seed: number, target: string, index: number);
  u32(): number;
  int(n: number): number;
  chance(p: number): boolean;
}
