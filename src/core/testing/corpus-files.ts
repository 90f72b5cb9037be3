import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

/**
 * The real lspci dumps the tests read: the ones copied into the repository
 * (src/core/lspci/fixtures/corpus) and, when it sits beside the checkout,
 * the shared corpus (../shared/corpus/lspci-vvnn). Absolute paths.
 */
export function lspciCorpusFiles(): string[] {
  const fixtureDir = path.resolve("src", "core", "lspci", "fixtures", "corpus");
  const sharedDir = path.resolve("..", "shared", "corpus", "lspci-vvnn");
  const txt = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith(".txt")).map((f) => path.join(dir, f));
  return [...txt(fixtureDir), ...(existsSync(sharedDir) ? txt(sharedDir) : [])];
}
