// Shared by the market tests: a Result to claim, and the object the Polkadot extension injects into a page,
// backed by a real keyring (as the extension's background holds real keys).
import { Keyring } from '@polkadot/keyring';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import type { Result } from '../../src/eval/result';
import type { InjectedWindowProvider } from '@polkadot/extension-inject/types';

export const ARTIFACT = 'ab'.repeat(32);

export function fakeResult(over: Partial<Result> = {}): Result {
  return {
    schema: 'lab.result/1',
    model: { name: 'x.gguf', format: 'gguf', parameters: 1000 },
    recipeHash: null,
    artifactSha256: ARTIFACT,
    tasks: [{ task: 'arc_easy', version: 1, metrics: { acc: { value: 0.3, stderr: 0.1 } }, n: 20, seed: 's', itemsHash: 'h', seconds: 1, itemsPerSecond: 20 }],
    distribution: null,
    cost: { bytesOnDisk: 1000, runtimeBytes: 4000, peakHostBytes: null, prefillTokensPerSecond: 100, decodeTokensPerSecond: 50 },
    device: { backend: 'cpu', host: 'node', adapter: null },
    timing: { startedAt: '2026-01-01T00:00:00.000Z', seconds: 1 },
    ...over,
  };
}

/** The shape the Polkadot extension injects, backed by a real keyring (what the extension's background does). */
export function injectedExtension(uris: string[]): { provider: InjectedWindowProvider; origins: string[] } {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const pairs = uris.map((u) => keyring.addFromUri(u));
  const origins: string[] = [];
  return {
    origins,
    provider: {
      version: '0.58.1',
      async enable(origin: string) {
        origins.push(origin);
        return {
          accounts: {
            get: async () => pairs.map((p, i) => ({ address: p.address, name: `account ${i}`, type: 'sr25519' as const })),
            subscribe: () => () => {},
          },
          signer: {
            async signRaw({ address, data, type }) {
              const pair = pairs.find((p) => p.address === address);
              if (!pair) throw new Error('unknown account');
              if (type !== 'bytes') throw new Error('only bytes');
              return { id: 1, signature: u8aToHex(pair.sign(u8aWrapBytes(hexToU8a(data)))) };
            },
          },
        };
      },
    },
  };
}

