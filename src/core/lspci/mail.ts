/**
 * lspci output pasted into a bug report or a mail arrives quoted-printable
 * encoded (`=` soft line breaks, `=3D` for `=`). Undone here before the
 * scan, conservatively: only soft breaks, `=3D`, `=20`, `=09` and the
 * encoded bytes of non-ASCII text are decoded, so a part that was not
 * encoded (`primary=00`) survives intact.
 */

/** true when the text shows quoted-printable encoding */
export function isQuotedPrintable(text: string): boolean {
  if (/^Content-Transfer-Encoding:\s*quoted-printable\s*$/im.test(text)) return true;
  const eq = text.match(/=3D/g)?.length ?? 0;
  const soft = text.match(/=\r?\n/g)?.length ?? 0;
  return eq >= 2 && soft >= 1;
}

/** the text with its quoted-printable encoding undone (see above); unchanged when it shows none */
export function decodeQuotedPrintable(text: string): string {
  if (!isQuotedPrintable(text)) return text;
  const joined = text.replace(/=\r?\n/g, "");
  // runs of encoded bytes ≥ 0x80 are UTF-8 sequences
  const bytes = joined.replace(/(?:=[89A-Fa-f][0-9A-Fa-f])+/g, (run) => {
    const b = new Uint8Array(run.length / 3);
    for (let i = 0; i < b.length; i++) b[i] = parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    return utf8(b);
  });
  return bytes.replace(/=3D/gi, "=").replace(/=20/g, " ").replace(/=09/g, "\t");
}

/** UTF-8 bytes to text (core has no TextDecoder type); malformed sequences become U+FFFD */
function utf8(b: Uint8Array): string {
  let out = "";
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const n = c >= 0xf0 && c < 0xf8 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    let cp = n === 3 ? c & 0x07 : n === 2 ? c & 0x0f : c & 0x1f;
    let ok = n > 0 && i + n < b.length;
    for (let k = 1; ok && k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (x & 0x3f);
    }
    if (!ok) {
      out += "\ufffd";
      i++;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += n + 1;
  }
  return out;
}
