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
import { extensionSigner, web3Accounts, web3Enable, web3FromAddress } from '../../src/market/wallet';
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

  it('wallet adapter: enable, list accounts, sign through the injected extension; the market verifies it', async () => {
    const ext = injectedExtension(['//Alice', '//Charlie']);
    const host = { injectedWeb3: { 'polkadot-js': ext.provider, refuser: { enable: async () => { throw new Error('rejected by user'); } } } };
    const enabled = await web3Enable('compression lab', host);
    expect(enabled.map((e) => e.name)).toEqual(['polkadot-js']);
    expect(ext.origins).toEqual(['compression lab']);
    const accounts = await web3Accounts(enabled);
    expect(accounts.map((a) => a.meta.source)).toEqual(['polkadot-js', 'polkadot-js']);
    const charlie = accounts[1].address;
    const signer = extensionSigner(await web3FromAddress(enabled, charlie), charlie);
    const p = { ...payload(), miner: charlie };
    const env = await signEnvelope(p, signer);
    expect(await verifyPayload(p, env.signature, charlie)).toEqual({ ok: true });
    await expect(web3FromAddress(enabled, bob.address)).rejects.toThrow(/no enabled extension holds/);
    await expect(web3Enable('', host)).rejects.toThrow(/origin name/);
  });
});
