import { open, rename, rm } from "node:fs/promises";
import path from "node:path";

/** bytes written per call; a kill can land between any two */
const CHUNK = 16 * 1024;

/**
 * Writes `bytes` to `file` so that, whenever the process dies (SIGKILL
 * included), `file` holds either its old content or all of the new: the
 * bytes go to a temporary file beside it, are flushed to disk, and the
 * temporary file is renamed over `file` (rename is atomic within a file
 * system). On an error the temporary file is removed and the error rethrown;
 * a kill can leave the temporary file (`.NAME.tmp-PID`) behind, never a
 * half-written `file`.
 *
 * IOMMU_ATLAS_WRITE_DELAY_MS (tests only) pauses between chunks, so that a
 * test can kill the process while the file is being written.
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  const delay = Number(process.env.IOMMU_ATLAS_WRITE_DELAY_MS ?? 0);
  try {
    const fh = await open(temp, "w", 0o644);
    try {
      for (let at = 0; at < bytes.length; at += CHUNK) {
        await fh.write(bytes, at, Math.min(CHUNK, bytes.length - at));
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}
