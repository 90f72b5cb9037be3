/**
 * Builds the web page into dist/web: one classic script and one stylesheet
 * next to index.html, relative paths, no module script and no crossorigin
 * attributes, so the page also opens from file:// and makes no request
 * outside its own folder.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import type { Plugin } from "vite";

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/** `import x from "file?base64"`: a binary bundled as base64 text (an example capture) */
function base64Import(): Plugin {
  return {
    name: "iommu-atlas-base64",
    enforce: "pre",
    load(id) {
      if (!id.endsWith("?base64")) return null;
      const data = readFileSync(id.slice(0, -"?base64".length)).toString("base64");
      return `export default ${JSON.stringify(data)};`;
    },
  };
}

/** module scripts and crossorigin fetches are blocked on file://: make them classic */
function classicScript(): Plugin {
  return {
    name: "iommu-atlas-classic-script",
    enforce: "post",
    transformIndexHtml: {
      order: "post",
      handler(html) {
        return html.replace(/<script type="module" crossorigin/g, "<script defer").replace(/ crossorigin(?=[\s>])/g, "");
      },
    },
  };
}

/**
 * `--mode headless`: the page's shared-link and input reading (page/headless.ts)
 * as one ES module for Node in dist/web-headless, which `npm run fuzz` feeds.
 */
const headless = defineConfig({
  root: here("./page"),
  publicDir: false,
  logLevel: "warn",
  plugins: [base64Import()],
  build: {
    outDir: here("../../dist/web-headless"),
    emptyOutDir: true,
    reportCompressedSize: false,
    minify: false,
    lib: { entry: here("./page/headless.ts"), formats: ["es"], fileName: "headless" },
    rolldownOptions: { checks: { pluginTimings: false } },
  },
});

export default defineConfig(({ mode }) => (mode === "headless" ? headless : page));

const page = defineConfig({
  root: here("./page"),
  base: "./",
  publicDir: false,
  logLevel: "warn",
  plugins: [base64Import(), classicScript()],
  build: {
    outDir: here("../../dist/web"),
    emptyOutDir: true,
    modulePreload: false,
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    // elkjs alone is about 1.5 MB
    chunkSizeWarningLimit: 4000,
    rolldownOptions: {
      // the slow-plugin report is noise on a shared machine
      checks: { pluginTimings: false },
      output: { format: "iife", entryFileNames: "app.js", assetFileNames: "[name][extname]" },
    },
  },
});
