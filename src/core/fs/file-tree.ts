/**
 * A captured file system subset, the common input of every sysfs-like source.
 *
 * The CLI fills it from a live `/sys`, an extracted folder or a capture
 * archive; the core reads it without knowing which. Paths are relative to the
 * capture root, use `/`, and never start or end with `/`
 * (`sys/bus/pci/devices/0000:00:02.0`, `proc/cmdline`).
 */
export type FileTreeEntry =
  | { readonly kind: "file"; readonly data: Uint8Array }
  | { readonly kind: "symlink"; readonly target: string }
  | { readonly kind: "dir" };

export type FileTree = ReadonlyMap<string, FileTreeEntry>;

/** joins and normalises `..`/`.` segments; never climbs above the root */
export function joinPath(base: string, rel: string): string {
  const parts = rel.startsWith("/") ? [] : base.split("/").filter((p) => p !== "");
  for (const seg of rel.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return parts.join("/");
}

export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** target of a symlink resolved against the link's folder, or undefined */
export function resolveLink(tree: FileTree, path: string): string | undefined {
  const e = tree.get(path);
  if (e?.kind !== "symlink") return undefined;
  return joinPath(dirname(path), e.target);
}

const dirIndexes = new WeakMap<FileTree, Map<string, Set<string>>>();

function dirIndex(tree: FileTree): Map<string, Set<string>> {
  let index = dirIndexes.get(tree);
  if (index) return index;
  index = new Map();
  for (const key of tree.keys()) {
    // register every ancestor, so folders implied by deeper paths are listed too
    let child = key;
    let parent = dirname(key);
    for (;;) {
      let names = index.get(parent);
      if (!names) index.set(parent, (names = new Set()));
      if (names.has(basename(child))) break;
      names.add(basename(child));
      if (parent === "") break;
      child = parent;
      parent = dirname(parent);
    }
  }
  dirIndexes.set(tree, index);
  return index;
}

/** names directly inside `dir`, unsorted and not copied (a quick "is it there" before building paths) */
export function dirEntries(tree: FileTree, dir: string): ReadonlySet<string> | undefined {
  return dirIndex(tree).get(dir);
}

/** names directly inside `dir` (files, links and folders), sorted */
export function listDir(tree: FileTree, dir: string): string[] {
  return [...(dirIndex(tree).get(dir) ?? [])].sort();
}

/** bytes as text; sysfs and procfs files are ASCII */
export function asciiText(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i < data.length; i += 8192) {
    s += String.fromCharCode(...data.subarray(i, i + 8192));
  }
  return s;
}

/** a file's content as trimmed text, or undefined when absent */
export function readText(tree: FileTree, path: string): string | undefined {
  const e = tree.get(path);
  return e?.kind === "file" ? asciiText(e.data).trim() : undefined;
}
