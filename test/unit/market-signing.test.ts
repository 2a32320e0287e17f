// Signing and verification with real sr25519 keys (@polkadot/keyring, util-crypto): no crypto is mocked.
import { Keyring } from '@polkadot/keyring';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256OfBytes } from '../../src/io/hash';
import { ownershipHash } from '../../src/market/ownership';
import { documentId, newNonce, signEnvelope, signingBytes, submissionPayload, type Signer } from '../../src/market/payload';
import { SignedSubmission } from '../../src/market/schema';
import { cryptoReady, keyFromUri, verifyPayload } from '../../src/market/signing';
import { ARTIFACT, fakeResult, injectedExtension } from '../server/market-fixtures';

describe('market signing (sr25519)', () => {
  let alice: Signer, bob: Signer;
  beforeAll(async () => {
    await cryptoReady();
    alice = (await keyFromUri('//Alice')).signer;
    bob = (await keyFromUri('//Bob')).signer;
  });

  const payload = () => submissionPayload({
    requestId: '0123456789abcdef', artifact: { sha256: ARTIFACT, bytes: 1000, name: 'x.gguf' }, result: fakeResult(), miner: alice.address, now: 1_700_000_000_000,
  });

  it('signs the canonical bytes; the signature verifies for the signer only', async () => {
    const p = payload();
    const env = await signEnvelope(p, alice);
    expect(SignedSubmission.safeParse(env).success).toBe(true);
    expect(await verifyPayload(p, env.signature, alice.address)).toEqual({ ok: true });
    const other = await verifyPayload(p, env.signature, bob.address);
    expect(other.ok).toBe(false);
    // key order does not matter (canonical JSON), any change of content does
    const reordered = Object.fromEntries(Object.entries(p).reverse());
    expect(await verifyPayload(reordered, env.signature, alice.address)).toEqual({ ok: true });
    const tampered = { ...p, result: fakeResult({ cost: { ...p.result.cost, bytesOnDisk: 999 } }) };
    expect((await verifyPayload(tampered, env.signature, alice.address)).ok).toBe(false);
    expect(documentId(p)).toBe(documentId(reordered));
    expect(documentId(p)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('a signature over <Bytes>canonical</Bytes> (what the extension signs) verifies', async () => {
    const p = payload();
    const { pair } = await keyFromUri('//Alice');
    const sig = u8aToHex(pair.sign(u8aWrapBytes(signingBytes(p))));
    expect(await verifyPayload(p, sig, alice.address)).toEqual({ ok: true });
    // util-crypto's signatureVerify also accepts the bare bytes (it tries both forms); a different message never
    const other = u8aToHex(pair.sign(u8aWrapBytes(signingBytes({ ...p, nonce: newNonce() }))));
    expect((await verifyPayload(p, other, alice.address)).ok).toBe(false);
  });

  it('refuses ed25519 signatures and bad addresses with a reason', async () => {
    const ed = new Keyring({ type: 'ed25519', ss58Format: 42 }).addFromUri('//Alice');
    const p = { ...payload(), miner: ed.address };
    const sig = u8aToHex(ed.sign(u8aWrapBytes(signingBytes(p))));
    expect(await verifyPayload(p, sig, ed.address)).toEqual({ ok: false, reason: expect.stringMatching(/sr25519 only/) });
    expect(await verifyPayload(p, sig, 'not-an-address')).toEqual({ ok: false, reason: expect.stringMatching(/not a valid SS58 address/) });
  });

  it('ownership = sha256(artifact digest || public key), different per key', () => {
    const pk = decodeAddress(alice.address);
    const manual = sha256OfBytes(new Uint8Array([...hexToU8a(`0x${ARTIFACT}`), ...pk]));
    expect(ownershipHash(ARTIFACT, pk)).toBe(manual);
    expect(ownershipHash(ARTIFACT, decodeAddress(bob.address))).not.toBe(manual);
    expect(() => ownershipHash('xyz', pk)).toThrow(/not a sha256/);
  });

  it('nonces are fresh 128-bit hex', () => {
    const a = newNonce();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newNonce()).not.toBe(a);
  });

  it('wallet through @polkadot/extension-dapp: enable, list accounts, sign through the injected extension; the market verifies it', async () => {
    // extension-dapp reads window.injectedWeb3 and waits for a complete document: give it a minimal window
    const ext = injectedExtension(['//Alice', '//Charlie']);
    const g = globalThis as unknown as Record<string, unknown>;
    g.window = globalThis;
    g.document = { readyState: 'complete' };
    g.injectedWeb3 = { 'polkadot-js': ext.provider, refuser: { enable: async () => { throw new Error('rejected by user'); } } };
    try {
      const { connectWallet, walletSigner } = await import('../../src/market/wallet');
      await expect(connectWallet('')).rejects.toThrow(/origin name/);
      const { extensions, accounts } = await connectWallet('compression lab');
      expect(extensions.map((e) => e.name)).toEqual(['polkadot-js']);
      expect(ext.origins).toEqual(['compression lab']);
      expect(accounts.map((a) => a.meta.source)).toEqual(['polkadot-js', 'polkadot-js']);
      const charlie = accounts[1].address;
      const p = { ...payload(), miner: charlie };
      const env = await signEnvelope(p, await walletSigner(charlie));
      expect(await verifyPayload(p, env.signature, charlie)).toEqual({ ok: true });
      await expect(walletSigner(bob.address)).rejects.toThrow(/Unable to find injected/);
    } finally {
      delete g.window;
      delete g.document;
      delete g.injectedWeb3;
    }
  });
});
