/**
 * A one-line progress bar on a terminal's stderr; silent elsewhere (pipes,
 * files, CI logs), so output stays clean.
 */
export interface Progress {
  /** `done` of `total` finished */
  update(done: number): void;
  /** clears the bar */
  done(): void;
}

const WIDTH = 30;
/** at most ten redraws a second */
const INTERVAL_MS = 100;

/** a bar on `stream` when it is a terminal; null: none */
export function progressBar(label: string, total: number, stream: NodeJS.WriteStream | null = process.stderr): Progress {
  if (!stream?.isTTY || total === 0) return { update: () => undefined, done: () => undefined };
  let last = 0;
  const started = Date.now();
  const draw = (done: number): void => {
    const filled = Math.round((done / total) * WIDTH);
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? `${Math.round(done / secs)}/s` : "";
    stream.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${done}/${total} ${rate}\x1b[K`);
  };
  return {
    update(done) {
      const now = Date.now();
      if (done < total && now - last < INTERVAL_MS) return;
      last = now;
      draw(done);
    },
    done() {
      stream.write("\r\x1b[K");
    },
  };
}
