/**
 * The CLI as one bundle for Node (`npm run build`): `dist/bundle/main.js`
 * holds what every command needs (argument parsing, errors); each command
 * and what only it uses is a chunk loaded when that command runs. The
 * bundle sits two folders below the package root, like `dist/cli/`, so
 * paths resolved from `import.meta.url` (package.json, the bundled example)
 * stay the same.
 *
 * `--mode bench` bundles `src/cli/bench.ts` instead, into `dist/bench/`,
 * with the literal kernel-order reference the bench compares against.
 */
import { builtinModules } from "node:module";
import { defineConfig } from "vite";

/** packages loaded from node_modules at run time: big, native or with files of their own */
const EXTERNAL = ["@electric-sql/pglite", "pg", "playwright-core", "elkjs"];

export default defineConfig(({ mode }) => {
  const bench = mode === "bench";
  return {
    logLevel: "warn",
    publicDir: false,
    build: {
      ssr: bench ? "src/cli/bench.ts" : "src/cli/main.ts",
      outDir: bench ? "dist/bench" : "dist/bundle",
      emptyOutDir: true,
      target: "node20",
      minify: false,
      sourcemap: false,
      reportCompressedSize: false,
      rollupOptions: {
        external: (id: string) =>
          id.startsWith("node:") || builtinModules.includes(id) || EXTERNAL.some((e) => id === e || id.startsWith(`${e}/`)),
        output: {
          format: "es",
          entryFileNames: bench ? "bench.js" : "main.js",
          chunkFileNames: "[name]-[hash].js",
        },
      },
    },
    ssr: { noExternal: true, target: "node" },
  };
});
