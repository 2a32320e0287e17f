// Page state of the Validator: read-only views of the service: epochs (seed commitment, results), the queue
// of submissions waiting for re-measurement, verdicts with their reasons, and one miner's record.
import type { SubmissionView } from '../market/client';
import type { Epoch } from '../market/schema';
import type { MarketState } from './market.svelte';
import { message } from './worker';

export interface MinerRecord {
  miner: string;
  submissions: number;
  accepted: number;
  rejected: number;
  overClaims: { submissionId: string; epoch: number; reasons: string[] }[];
}

export class ValidatorState {
  epochs = $state<Epoch[]>([]);
  submissions = $state<SubmissionView[]>([]);
  miner = $state('');
  record = $state<MinerRecord | null>(null);
  minerSubmissions = $state<SubmissionView[]>([]);
  error = $state<string | null>(null);
  loading = $state(false);

  constructor(readonly market: MarketState) {}

  get queue(): SubmissionView[] {
    return this.submissions.filter((s) => s.status === 'pending' || s.status === 'validating');
  }

  get verdicts(): SubmissionView[] {
    return this.submissions.filter((s) => s.verdict);
  }

  async refresh(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      const c = this.market.client;
      const [e, s] = await Promise.all([c.epochs(), c.submissions()]);
      this.epochs = e.epochs;
      this.submissions = s.submissions;
    } catch (e) {
      this.error = `Could not reach the validator at ${this.market.url}: ${message(e)}`;
    } finally {
      this.loading = false;
    }
  }

  async lookup(address: string): Promise<void> {
    this.miner = address.trim();
    if (!this.miner) return;
    try {
      const url = `${this.market.url}/v1/miners/${encodeURIComponent(this.miner)}`;
      const r = await fetch(url);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      this.record = (await r.json()) as MinerRecord;
      this.minerSubmissions = (await this.market.client.submissions({ miner: this.miner })).submissions;
    } catch (e) {
      this.error = `Could not read miner ${this.miner}: ${message(e)}`;
    }
  }
}
