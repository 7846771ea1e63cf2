/** Files as text without losing a byte: how planning reads them and apply writes them back. */

/** How a file's bytes became text, so writing it back gives the same bytes for unchanged parts. */
export type TextEncoding = 'utf8' | 'latin1';

/** Decodes bytes as UTF-8 when that is lossless, else byte-for-byte (latin1), so nothing is lost. */
export function decodeText(content: Buffer): { text: string; encoding: TextEncoding } {
  const text = content.toString('utf8');
  return Buffer.from(text, 'utf8').equals(content) ? { text, encoding: 'utf8' } : { text: content.toString('latin1'), encoding: 'latin1' };
}

export function encodeText(text: string, encoding: TextEncoding): Buffer {
  return Buffer.from(text, encoding);
}
