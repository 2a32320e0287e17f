// A folder export as one download: a POSIX ustar archive (every OS's tar, 7-Zip and macOS Archive Utility open
// it). Browsers let one click start one download; a loop of downloads is throttled once the click's user
// activation lapses. No compression: weights barely compress and the bytes are already in memory.
export interface TarEntry { path: string; bytes: Uint8Array }

const BLOCK = 512;
const enc = new TextEncoder();

function field(h: Uint8Array, offset: number, length: number, text: string) {
  const b = enc.encode(text);
  if (b.length > length) throw new Error(`tar: "${text}" does not fit a ${length}-byte header field`);
  h.set(b, offset);
}

const octal = (n: number, width: number) => `${n.toString(8).padStart(width - 1, '0')}\0`;

function header(path: string, size: number, mtime: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  // ustar splits long paths at a '/' into prefix (155) + name (100)
  let name = path, prefix = '';
  if (enc.encode(path).length > 100) {
    const cut = path.lastIndexOf('/', 155);
    if (cut <= 0 || enc.encode(path.slice(cut + 1)).length > 100) throw new Error(`tar: path too long: ${path}`);
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
  }
  field(h, 0, 100, name);
  field(h, 100, 8, '0000644\0');
  field(h, 108, 8, '0000000\0');
  field(h, 116, 8, '0000000\0');
  field(h, 124, 12, octal(size, 12));
  field(h, 136, 12, octal(mtime, 12));
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  field(h, 156, 1, '0');
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  field(h, 345, 155, prefix);
  const sum = h.reduce((s, x) => s + x, 0);
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** The entries as one ustar archive; `mtime` in seconds (fixed by default, so equal input gives equal bytes). */
export function tar(entries: readonly TarEntry[], mtime = 0): Uint8Array {
  const size = entries.reduce((s, e) => s + BLOCK + Math.ceil(e.bytes.byteLength / BLOCK) * BLOCK, 2 * BLOCK);
  const out = new Uint8Array(size);
  let at = 0;
  for (const e of entries) {
    out.set(header(e.path, e.bytes.byteLength, mtime), at);
    at += BLOCK;
    out.set(e.bytes, at);
    at += Math.ceil(e.bytes.byteLength / BLOCK) * BLOCK;
  }
  return out; // the two zero blocks that end the archive are already zeros
}
