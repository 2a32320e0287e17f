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

/** A file given as byte parts written back to back (an exporter's ExportFile). */
export interface TarPartsEntry { path: string; parts: readonly Uint8Array[]; bytes: number }

const ZEROS = new Uint8Array(2 * BLOCK);

/**
 * The archive as byte parts: each header, the file's own parts, its padding, then the two zero blocks that
 * end it. Nothing is joined, so an archive larger than any one ArrayBuffer goes straight into a Blob.
 */
export function tarParts(entries: readonly TarPartsEntry[], mtime = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const e of entries) {
    out.push(header(e.path, e.bytes, mtime), ...e.parts);
    const pad = (BLOCK - (e.bytes % BLOCK)) % BLOCK;
    if (pad) out.push(ZEROS.subarray(0, pad));
  }
  out.push(ZEROS);
  return out;
}

/** The entries as one ustar archive; `mtime` in seconds (fixed by default, so equal input gives equal bytes). */
export function tar(entries: readonly TarEntry[], mtime = 0): Uint8Array {
  const parts = tarParts(entries.map((e) => ({ path: e.path, parts: [e.bytes], bytes: e.bytes.byteLength })), mtime);
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.byteLength), 0);
  return out;
}
