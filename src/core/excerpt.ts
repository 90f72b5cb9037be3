/**
 * Text that came from an input, made safe to print inside a one-line
 * message: control, format and line-separator characters are escaped
 * (`\n`, `\t`, `\x1b`, `\u202e`) and long text is cut with an ellipsis, so a
 * hostile file can neither break the line, drive the terminal nor flood it.
 */

// C0/C1 controls, DEL, Unicode format characters (bidi overrides, zero-width), line/paragraph separators, lone surrogates
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\ufffd]/u;
const UNSAFE_ALL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\ufffd]/gu;

function escapeChar(c: string): string {
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  if (c === "\t") return "\\t";
  const code = c.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** `text` with every unsafe character escaped */
export function escapeText(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeChar) : text;
}

/** the first `n` UTF-16 units of `text`, one fewer when the cut would split a surrogate pair */
function cut(text: string, n: number): string {
  if (n >= text.length) return text;
  const last = text.charCodeAt(n - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? n - 1 : n);
}

/** `text` escaped and cut to at most `max` characters (an ellipsis marks the cut) */
export function excerpt(text: string, max = 60): string {
  // escaping can only lengthen: cut the raw text first, then again after escaping
  const raw = cut(text, max);
  const escaped = escapeText(raw);
  if (escaped.length <= max && raw.length === text.length) return escaped;
  return `${cut(escaped, Math.max(1, max - 1))}…`;
}

/** a whole message as one printable line of at most `max` characters */
export function oneLine(message: string, max = 1000): string {
  return excerpt(message, max);
}
