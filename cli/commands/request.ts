import { createReadStream, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { fileSource } from '../../node/files';
import { sha256Hex } from '../../src/io/hash';
import { MarketClient } from '../../src/market/client';
import { requestPayload, signEnvelope } from '../../src/market/payload';
import { RequestPayload, firstIssue } from '../../src/market/schema';
import { keyFromUri } from '../../src/market/signing';
import { parse, report, UsageError, type Command } from '../command';

/** The service to talk to: --server, else $LAB_MARKET_URL, else the local default. */
export function marketClient(server: string | boolean | undefined): MarketClient {
  return new MarketClient((server as string | undefined) ?? process.env.LAB_MARKET_URL ?? 'http://127.0.0.1:8787');
}

/** Upload a file to the service's blob store (streamed) unless it holds the bytes already. */
export async function uploadFile(client: MarketClient, path: string, sha256: string) {
  if (await client.hasBlob(sha256)) return;
  await client.putBlob(sha256, Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>);
}

export const requestCommand: Command = {
  usage: 'post <request.json> --key <uri> [--base <model file>] [--server URL] | list [--status open|fulfilled|expired] [--server URL] | show <id> [--server URL]',
  summary: 'post a signed request (base model, hardware target, constraints, objective, bid), list requests, or show one with its leaderboard',
  async run(argv) {
    const { values, positionals } = parse(argv, { key: { type: 'string' }, base: { type: 'string' }, server: { type: 'string' }, status: { type: 'string' } });
    const [action, arg] = positionals;
    const client = marketClient(values.server);
    const json = !!values.json;
    if (action === 'list') {
      const status = values.status as 'open' | 'fulfilled' | 'expired' | undefined;
      const { requests } = await client.listRequests(status);
      return report(json, { requests }, () => requests.length === 0 ? 'no requests' : requests.map((r) =>
        `${r.id}  ${r.status.padEnd(9)} epoch ${r.openedEpoch}  ${r.request.title}  (${r.request.bid.amount} ${r.request.bid.currency}, ${r.request.objective.kind})`).join('\n'));
    }
    if (action === 'show') {
      if (!arg) throw new UsageError('give the request id: lab request show <id>');
      const [r, board] = await Promise.all([client.getRequest(arg), client.leaderboard(arg)]);
      return report(json, { ...r, leaderboard: board }, () => [
        `${r.id}  ${r.status}  ${r.request.title}`,
        ...board.ranking.map((e) => `  #${e.rank} ${e.submissionId} by ${e.miner} score ${e.score} (epoch ${e.epoch})`),
        ...board.winners.map((w) => `  epoch ${w.epoch} winner ${w.result.winner}`),
      ].join('\n'));
    }
    if (action !== 'post') throw new UsageError('lab request post|list|show');
    if (!arg) throw new UsageError('give the request file: lab request post <request.json> --key <uri>');
    const key = (values.key as string | undefined) ?? process.env.LAB_KEY;
    if (!key) throw new UsageError('--key <uri> (or $LAB_KEY) is required: the buyer\'s sr25519 secret URI, e.g. //Alice or a mnemonic');
    const fields = JSON.parse(readFileSync(arg, 'utf8')) as Record<string, unknown>;
    if (values.base) {
      // the base model's bytes go to the blob store, so validators can measure fraction_of_base on the same items
      const path = values.base as string;
      const src = fileSource(path);
      const sha256 = await sha256Hex(src);
      fields.base = { ...(fields.base as object), name: (fields.base as { name?: string })?.name ?? basename(path), sha256, bytes: src.size };
      await uploadFile(client, path, sha256);
    }
    const { signer } = await keyFromUri(key);
    const payload = requestPayload(fields as never, signer.address);
    const check = RequestPayload.safeParse(payload);
    if (!check.success) throw new UsageError(`${arg}: ${firstIssue(check.error)}`);
    const env = await signEnvelope(payload, signer);
    const r = await client.postRequest(env as never);
    report(json, { ...r, buyer: signer.address }, () => `request ${r.id} posted by ${signer.address} (open from epoch ${r.openedEpoch})`);
  },
};
