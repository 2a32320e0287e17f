// sr25519 verification (and a keyring signer for Node, the CLI and tests) with @polkadot/util-crypto.
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
// util-crypto's own backend (a dependency of it, hoisted); ready once cryptoWaitReady resolved true
import { isReady as wasmReady, sr25519Verify as wasmSr25519Verify } from '@polkadot/wasm-crypto';
import { cryptoWaitReady, decodeAddress, signatureVerify } from '@polkadot/util-crypto';
import { signingBytes, type Signer } from './payload';

let ready: Promise<boolean> | undefined;
/** sr25519 runs in wasm; every entry point that signs or verifies awaits this once. */
export const cryptoReady = () => (ready ??= cryptoWaitReady());

export type Verification = { ok: true } | { ok: false; reason: string };

/** Does `signature` sign `payload` (canonical bytes, wrapped as signRaw does) by the sr25519 key of `address`? */
export async function verifyPayload(payload: unknown, signature: string, address: string): Promise<Verification> {
  await cryptoReady();
  let publicKey: Uint8Array;
  try {
    publicKey = decodeAddress(address);
  } catch (e) {
    return { ok: false, reason: `"${address}" is not a valid SS58 address (${(e as Error).message})` };
  }
  const message = u8aWrapBytes(signingBytes(payload));
  // fast path: sr25519 over <Bytes>payload</Bytes> in wasm (~0.1 ms). util-crypto's signatureVerify tries every
  // scheme and both message forms in pure JS (~10 ms), which would cap the service near 100 submissions/s per core.
  const sig = /^0x[0-9a-fA-F]{128}$/.test(signature) ? hexToU8a(signature) : null;
  if (sig && publicKey.length === 32 && wasmReady() && wasmSr25519Verify(sig, message, publicKey)) return { ok: true };
  // slow path, only for what fails the fast one: the reason (another scheme, bare bytes, nothing at all)
  const r = signatureVerify(message, signature, publicKey);
  if (!r.isValid) return { ok: false, reason: `signature does not verify for ${address} over the canonical payload` };
  if (r.crypto !== 'sr25519') return { ok: false, reason: `signature is ${r.crypto}; the market accepts sr25519 only` };
  return { ok: true };
}

export function pairSigner(pair: KeyringPair): Signer {
  return {
    address: pair.address,
    signRaw: async (message) => u8aToHex(pair.sign(u8aWrapBytes(message))),
  };
}

/** An sr25519 key from a secret URI ("//Alice", a mnemonic, "0x<seed>", with //hard/soft derivations). */
export async function keyFromUri(uri: string): Promise<{ pair: KeyringPair; signer: Signer }> {
  await cryptoReady();
  const pair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(uri);
  return { pair, signer: pairSigner(pair) };
}

export function publicKeyOf(address: string): Uint8Array {
  return decodeAddress(address);
}
