import { openMarket } from '../../server/serve';
import { parse, report, type Command } from '../command';
import { chainOption, MARKET_FLAGS, marketOptions, parseDuration } from './serve';

export const validateCommand: Command = {
  usage: '[--once] [--close] [--db .market/market.sqlite | --database-url postgres://... ($DATABASE_URL)] [--blobs DIR] [--data DIR] [--limit 50] [--backend cpu|webgpu] [--subtensor wss://... --netuid N --hotkey URI] [--every 30s] [--json]',
  summary: 'validate pending submissions (re-measure on the epoch seed\'s held-out items, check claims and constraints) and close due epochs; --close closes the open epoch now',
  async run(argv, signal) {
    const { values } = parse(argv, { ...MARKET_FLAGS, once: { type: 'boolean' }, close: { type: 'boolean' }, every: { type: 'string' } });
    const m = marketOptions(values);
    const json = !!values.json;
    const log = (line: string) => console.error(`[validate] ${line}`);
    const chain = await chainOption(values);
    const { store, validator } = await openMarket({ ...m, chain, maxArtifactBytes: Number.MAX_SAFE_INTEGER, log });
    try {
      if (values.once) {
        const r = await validator.runOnce({ close: !!values.close, signal });
        const out = {
          verdicts: r.verdicts.map((v) => ({ id: v.submissionId, epoch: v.epoch, status: v.status, reasons: v.reasons, score: v.score, overClaim: v.overClaim })),
          closed: r.closed,
        };
        return report(json, out, () => [
          `${r.verdicts.length} submission(s) validated`,
          ...out.verdicts.map((v) => `  ${v.id} ${v.status}${v.reasons.length ? `: ${v.reasons.join('; ')}` : ''}`),
          ...r.closed.map((e) => `epoch ${e.index} closed: ${(e.results ?? []).map((x) => `request ${x.requestId} ${x.status}${x.winner ? `, winner ${x.winner}` : ''}`).join('; ') || 'no open requests'}`),
        ].join('\n'));
      }
      const every = parseDuration((values.every as string | undefined) ?? '30s', 'every');
      while (!signal.aborted) {
        await validator.runOnce({ signal }).catch((e) => {
          if (!signal.aborted) log((e as Error).message);
        });
        await new Promise<void>((ok) => {
          const t = setTimeout(ok, every);
          signal.addEventListener('abort', () => (clearTimeout(t), ok()), { once: true });
        });
      }
    } finally {
      await store.close();
      await chain?.close?.();
    }
  },
};
