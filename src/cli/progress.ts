/**
 * A progress bar on stderr for work that takes more than about a second:
 * reading a big capture, ingesting a fleet. It appears only when the stream
 * is a terminal and the work has run for `delayMs`; it redraws at most ten
 * times a second and erases itself when the work ends, so nothing of it
 * stays in the terminal or reaches a file or a pipe.
 */

/** the part of a tty.WriteStream the bar uses */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** what is being done, e.g. "reading capture.tar.gz" */
  readonly label: string;
  /** the amount of work when known (bytes, functions); the bar then shows a share */
  readonly total?: number | undefined;
  /** "bytes" prints amounts as MB */
  readonly unit?: "bytes" | "items";
  /** default: process.stderr */
  readonly stream?: ProgressStream;
  /** how long the work runs before the bar appears (default 1000 ms) */
  readonly delayMs?: number;
  /** clock in ms (tests) */
  readonly now?: () => number;
}

export interface Progress {
  /** how much of the work is done so far */
  update(done: number): void;
  /** the work ended (or failed): erases the bar if it was shown */
  end(): void;
  /** the same as end() */
  done(): void;
}

const REDRAW_MS = 100;
const NONE: Progress = { update: () => undefined, end: () => undefined, done: () => undefined };

function amount(n: number, unit: "bytes" | "items"): string {
  return unit === "bytes" ? `${(n / 1e6).toFixed(1)} MB` : n.toLocaleString("en");
}

/** a progress bar on a terminal, nothing anywhere else */
export function progress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  if (stream.isTTY !== true) return NONE;
  const now = opts.now ?? (() => performance.now());
  const unit = opts.unit ?? "items";
  const start = now();
  const delay = opts.delayMs ?? 1000;
  let drawnAt = -Infinity;
  let shown = false;
  let ended = false;
  const bar: Progress = {
    update(done) {
      if (ended) return;
      const t = now();
      if (t - start < delay || t - drawnAt < REDRAW_MS) return;
      drawnAt = t;
      shown = true;
      const width = Math.max(20, (stream.columns ?? 80) - 1);
      const total = opts.total !== undefined && opts.total > 0 ? opts.total : undefined;
      const share = total === undefined ? undefined : Math.min(1, done / total);
      const tail = share === undefined ? ` ${amount(done, unit)}` : ` ${Math.floor(share * 100)}% ${amount(done, unit)} / ${amount(total!, unit)}`;
      const room = width - opts.label.length - tail.length - 3;
      let line = opts.label + tail;
      if (share !== undefined && room >= 10) {
        const full = Math.round(share * room);
        line = `${opts.label} [${"#".repeat(full)}${" ".repeat(room - full)}]${tail}`;
      }
      stream.write(`\r${line.slice(0, width)}\x1b[K`);
    },
    end() {
      if (ended) return;
      ended = true;
      if (shown) stream.write("\r\x1b[K");
    },
    done() {
      bar.end();
    },
  };
  return bar;
}

/** `label [####  ] done/total` on `stream` (null: nowhere) for work of `total` items, after the usual second */
export function progressBar(label: string, total: number, stream: ProgressStream | null = process.stderr): Progress {
  if (stream === null || total === 0) return NONE;
  return progress({ label, total, stream });
}
