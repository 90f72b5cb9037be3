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
    return new TextDecoder("utf-8").decode(b);
  });
  return bytes.replace(/=3D/gi, "=").replace(/=20/g, " ").replace(/=09/g, "\t");
}
