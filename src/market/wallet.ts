// The browser wallet, through @polkadot/extension-dapp: web3Enable asks every injected extension (polkadot-js,
// Talisman, SubWallet, ...) for access, web3Accounts lists their accounts, web3FromAddress finds the one that
// holds an address, and its signer's signRaw({ type: 'bytes' }) signs <Bytes>payload</Bytes> with sr25519, which
// is exactly what the market verifies (signing.ts). This file holds no key.
// extension-dapp reads `window` when it is imported, so it is imported on first use: the lab's bundle loads it
// only when someone connects a wallet, and Node code may import this file.
import type { InjectedAccountWithMeta, InjectedExtension } from '@polkadot/extension-inject/types';
import type { Signer } from './payload';

export type WalletAccount = InjectedAccountWithMeta;

const dapp = () => import('@polkadot/extension-dapp');

const toHex = (b: Uint8Array): `0x${string}` => `0x${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;

/**
 * Enable the injected extensions for `originName` (each shows its consent prompt) and list their sr25519
 * accounts. Throws, naming what to do, when no extension is installed or none granted access.
 */
export async function connectWallet(originName: string): Promise<{ extensions: InjectedExtension[]; accounts: WalletAccount[] }> {
  if (!originName) throw new Error('connectWallet: an origin name is required (extensions show it to the user)');
  const { web3Enable, web3Accounts } = await dapp();
  const extensions = await web3Enable(originName);
  if (extensions.length === 0) {
    throw new Error('no Polkadot wallet extension granted access: install polkadot{.js}, Talisman or SubWallet and allow this site');
  }
  // the market verifies sr25519 only (ed25519 and ecdsa accounts could not sign a valid submission)
  const accounts = await web3Accounts({ accountType: ['sr25519'] });
  return { extensions, accounts };
}

/** A market Signer backed by the extension's signRaw (type 'bytes': the extension wraps in <Bytes>...</Bytes>). */
export function extensionSigner(ext: Pick<InjectedExtension, 'name' | 'signer'>, address: string): Signer {
  const signRaw = ext.signer.signRaw;
  if (!signRaw) throw new Error(`extension "${ext.name}" cannot sign raw bytes`);
  return {
    address,
    async signRaw(message) {
      const { signature } = await signRaw({ address, data: toHex(message), type: 'bytes' });
      return signature;
    },
  };
}

/** The Signer for `address`, from whichever enabled extension holds it (connectWallet first). */
export async function walletSigner(address: string): Promise<Signer> {
  const { web3FromAddress } = await dapp();
  return extensionSigner(await web3FromAddress(address), address);
}
