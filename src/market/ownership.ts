// Ownership of an artifact: sha256(artifact digest || miner public key). The first hotkey to submit an artifact
// owns it ("earliest wins"); the hash binds the artifact to that key, so a copy submitted under another key
// has a different ownership hash and is recognised as a duplicate. Hashing the artifact's 32-byte digest
// rather than its bytes keeps this O(1) for multi-GB artifacts and is as binding (sha256 is collision resistant).
import { sha256OfBytes } from '../io/hash';

export function ownershipHash(artifactSha256: string, publicKey: Uint8Array): string {
  if (!/^[0-9a-f]{64}$/.test(artifactSha256)) throw new Error(`ownership: "${artifactSha256}" is not a sha256 hex digest`);
  const digest = Uint8Array.from(artifactSha256.match(/../g)!, (h) => parseInt(h, 16));
  const buf = new Uint8Array(32 + publicKey.length);
  buf.set(digest, 0);
  buf.set(publicKey, 32);
  return sha256OfBytes(buf);
}
