// The browser wallet: Polkadot-js-compatible extensions inject `window.injectedWeb3[name] = { enable, version }`;
// enable(origin) returns { accounts, signer }. This is the part of @polkadot/extension-dapp the market needs
// (web3Enable, web3Accounts, web3FromAddress), written against that injection interface directly because
// extension-dapp's current release pins @polkadot/api-augment versions the registry does not carry.
// The signature comes from the extension (signRaw over <Bytes>payload</Bytes>); this file holds no key and
// imports no @polkadot package, so the page's bundle stays small.
import type { Signer } from './payload';

export interface InjectedAccount {
  address: string;
  name?: string;
  type?: string;
  genesisHash?: string | null;
}

export interface SignerPayloadRaw {
  address: string;
  data: string;
  type: 'bytes' | 'payload';
}

export interface Injected {
  accounts: { get(anyType?: boolean): Promise<InjectedAccount[]> };
  signer: { signRaw?(raw: SignerPayloadRaw): Promise<{ id: number; signature: string }> };
}

export interface InjectedWindowProvider {
  enable(originName: string): Promise<Injected>;
  version?: string;
}

export interface InjectedExtension extends Injected {
  name: string;
  version: string;
}

export interface WalletAccount {
  address: string;
  meta: { name?: string; source: string; genesisHash?: string | null };
  type?: string;
}

const toHex = (b: Uint8Array) => `0x${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;

type InjectedHost = { injectedWeb3?: Record<string, InjectedWindowProvider>; document?: Document };

/** Extensions inject while the page loads; like extension-dapp, look once the document is complete. */
function documentReady(host: InjectedHost): Promise<void> {
  const doc = host.document;
  if (!doc || doc.readyState === 'complete') return Promise.resolve();
  return new Promise((resolve) => host.document!.defaultView?.addEventListener('load', () => resolve(), { once: true }));
}

/** Ask every injected extension for access (each shows its own consent prompt). Extensions that refuse are left out. */
export async function web3Enable(originName: string, host: InjectedHost = globalThis as unknown as InjectedHost): Promise<InjectedExtension[]> {
  if (!originName) throw new Error('web3Enable: an origin name is required (extensions show it to the user)');
  await documentReady(host);
  const providers = Object.entries(host.injectedWeb3 ?? {});
  const enabled = await Promise.all(providers.map(async ([name, p]) => {
    try {
      const injected = await p.enable(originName);
      return { ...injected, name, version: p.version ?? 'unknown' } satisfies InjectedExtension;
    } catch {
      return null; // the user refused, or the extension failed: not an error for the page
    }
  }));
  return enabled.filter((e): e is InjectedExtension => e !== null);
}

export async function web3Accounts(extensions: InjectedExtension[]): Promise<WalletAccount[]> {
  const lists = await Promise.all(extensions.map(async (ext) => (await ext.accounts.get(true)).map((a): WalletAccount => ({
    address: a.address, type: a.type, meta: { name: a.name, source: ext.name, genesisHash: a.genesisHash },
  }))));
  return lists.flat();
}

/** The extension that holds `address`. */
export async function web3FromAddress(extensions: InjectedExtension[], address: string): Promise<InjectedExtension> {
  for (const ext of extensions) {
    if ((await ext.accounts.get(true)).some((a) => a.address === address)) return ext;
  }
  throw new Error(`no enabled extension holds the account ${address}`);
}

/** A market Signer backed by the extension's signRaw (type 'bytes': the extension wraps in <Bytes>...</Bytes>). */
export function extensionSigner(ext: InjectedExtension, address: string): Signer {
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
