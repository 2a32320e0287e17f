// llama2.c tokenizer file (tokenizer.bin, tok512.bin ...): int32 max_token_length, then until the end
// of the file {float32 score, int32 len, len bytes of UTF-8}. The file carries no count, types or ids,
// so those follow run.c's conventions: 0 <unk>, 1 BOS, 2 EOS, then the <0xNN> byte pieces.
import type { TokenizerSpec } from '../model/tokenizer/spec';
import { FormatError } from './errors';

const BYTE_PIECE = /^<0x[0-9A-Fa-f]{2}>$/;
/** llama2.c's exporter writes BOS/EOS wrapped in newlines; the SentencePiece pieces are <s> and </s>. */
const WRAPPED_SPECIAL = /^\n(<\/?s>)\n$/;

export function parseLlama2cTokenizer(bytes: Uint8Array, name = 'tokenizer.bin'): TokenizerSpec {
  const fail = (detail: string): never => {
    throw new FormatError('llama2.c tokenizer', name, detail);
  };
  if (bytes.byteLength < 4) fail(`${bytes.byteLength} bytes is too short for the max_token_length header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxLen = view.getInt32(0, true);
  // run.c sizes its merge buffer from this, so a piece longer than it is corrupt, not merely odd.
  if (maxLen <= 0 || maxLen > 1 << 16) fail(`max_token_length ${maxLen} is out of range`);

  const decoder = new TextDecoder('utf-8', { fatal: true });
  const pieces: string[] = [];
  const scores: number[] = [];
  let off = 4;
  while (off < bytes.byteLength) {
    const i = pieces.length;
    if (off + 8 > bytes.byteLength) fail(`truncated at token ${i}: ${bytes.byteLength - off} bytes left, a token header needs 8`);
    const score = view.getFloat32(off, true);
    const len = view.getInt32(off + 4, true);
    if (!Number.isFinite(score)) fail(`token ${i} has score ${score}`);
    if (len < 0 || len > maxLen) fail(`token ${i} has length ${len}, outside 0..max_token_length ${maxLen}`);
    off += 8;
    if (off + len > bytes.byteLength) fail(`truncated at token ${i}: its ${len} bytes run past the end of the file (${bytes.byteLength} bytes)`);
    let piece: string;
    try {
      piece = decoder.decode(bytes.subarray(off, off + len));
    } catch {
      piece = fail(`token ${i} is not valid UTF-8`);
    }
    off += len;
    pieces.push(piece.replace(WRAPPED_SPECIAL, '$1'));
    scores.push(score);
  }
  if (pieces.length < 3) fail(`only ${pieces.length} tokens; run.c needs at least <unk>, BOS and EOS`);

  const types = pieces.map((p, id) => (id === 0 ? 2 : id <= 2 ? 3 : BYTE_PIECE.test(p) ? 6 : 1));
  return {
    kind: 'spm',
    pieces,
    scores: Float32Array.from(scores),
    types,
    bosId: 1,
    eosId: 2,
    unkId: 0,
    addDummyPrefix: true,
    spaceSymbol: ' ',
  };
}
