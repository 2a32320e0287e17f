// sr25519 verification (and a keyring signer for Node, the CLI and tests) with @polkadot/util-crypto.
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { u8aToHex, u8aWrapBytes } from '@polkadot/util';
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
  const r = signatureVerify(u8aWrapBytes(signingBytes(payload)), signature, publicKey);
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
