// The buyer's request form as state: every field of lab.request/1 a person fills in, and the payload fields
// they make. Validation is the market's own zod schema (MarketState.post), so the form never disagrees with it.
import type { Constraint, Objective, RequestPayload } from '../market/schema';
import { BUNDLED_MODEL } from './lab.svelte';
import { message } from './worker';

export interface ConstraintRow { task: string; metric: string; op: '>=' | '<='; mode: 'value' | 'fraction_of_base'; amount: number }
export interface TermRow { task: string; metric: string; weight: number }

export type Fields = Omit<RequestPayload, 'schema' | 'buyer' | 'nonce' | 'timestamp'>;

/** A number input holds a number once filled; empty, Svelte binds null (or it was never set). */
const given = (x: number | null | undefined): x is number => x !== undefined && x !== null && String(x) !== '';

const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');

export class RequestDraft {
  title = $state('Smaller stories260K, same stories');
  baseName = $state('');
  baseSha256 = $state('');
  baseBytes = $state<number | undefined>(undefined);
  baseUri = $state('');
  maxBytesOnDisk = $state<number | undefined>(undefined);
  maxRamBytes = $state<number | undefined>(undefined);
  /** KV positions the RAM bound counts; required with it (the service refuses a RAM bound without one). */
  contextLength = $state<number | undefined>(undefined);
  /** Speed target: a device class name and at least one tokens-per-second floor; empty class = no target. */
  deviceClass = $state('');
  minDecodeTps = $state<number | undefined>(undefined);
  minPrefillTps = $state<number | undefined>(undefined);
  constraints = $state<ConstraintRow[]>([{ task: 'tinystories', metric: 'perplexity', op: '<=', mode: 'fraction_of_base', amount: 1.1 }]);
  objective = $state<Objective['kind']>('smallest_bytes');
  objectiveTask = $state('tinystories');
  objectiveMetric = $state('perplexity');
  /** best_score only: a byte budget over which a submission is not eligible. */
  objectiveMaxBytes = $state<number | undefined>(undefined);
  terms = $state<TermRow[]>([{ task: 'tinystories', metric: 'perplexity', weight: 1 }]);
  bytesWeight = $state<number | undefined>(undefined);
  bidAmount = $state(10);
  currency = $state<'TAO' | 'USD'>('USD');
  deadlineEpochs = $state(6);
  payout = $state('0.7, 0.3');
  /** Declared base metrics (task.metric = value), for fraction_of_base when the validator has no copy of the base. */
  declared = $state('');
  hashing = $state(false);
  error = $state<string | null>(null);

  /** Fill the base fields from the bundled demo model (name, size and sha256 of its bytes). */
  async useBundled(): Promise<void> {
    this.hashing = true;
    this.error = null;
    try {
      const r = await fetch(BUNDLED_MODEL.url);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const bytes = await r.arrayBuffer();
      this.baseName = BUNDLED_MODEL.url.split('/').pop()!;
      this.baseBytes = bytes.byteLength;
      this.baseSha256 = hex(await crypto.subtle.digest('SHA-256', bytes));
      this.baseUri = new URL(BUNDLED_MODEL.url, location.href).href;
    } catch (e) {
      this.error = `Could not read the bundled model: ${message(e)}`;
    } finally {
      this.hashing = false;
    }
  }

  addConstraint(): void {
    this.constraints.push({ task: 'arc_easy', metric: 'acc_norm', op: '>=', mode: 'fraction_of_base', amount: 0.95 });
  }

  removeConstraint(i: number): void {
    this.constraints.splice(i, 1);
  }

  addTerm(): void {
    this.terms.push({ task: 'arc_easy', metric: 'acc_norm', weight: 1 });
  }

  removeTerm(i: number): void {
    this.terms.splice(i, 1);
  }

  /** The hardware target, or undefined when no field of it is filled. */
  private hardware(): RequestPayload['hardware'] {
    const speedGiven = given(this.minDecodeTps) || given(this.minPrefillTps);
    const deviceClass = this.deviceClass.trim();
    if (speedGiven && !deviceClass) throw new Error('speed: name the device class the tokens-per-second target is for');
    if (deviceClass && !speedGiven) throw new Error(`speed: give a decode or prefill tokens-per-second floor for "${deviceClass}"`);
    if (given(this.maxRamBytes) && !given(this.contextLength)) throw new Error('memory: give the context length (positions) the memory bound is for');
    if (given(this.contextLength) && !given(this.maxRamBytes)) throw new Error('memory: a context length only counts with a memory bound; give the bound or clear the length');
    const hw = {
      ...(given(this.maxBytesOnDisk) ? { maxBytesOnDisk: Number(this.maxBytesOnDisk) } : {}),
      ...(given(this.maxRamBytes) ? { maxRamBytes: Number(this.maxRamBytes) } : {}),
      ...(given(this.contextLength) ? { contextLength: Number(this.contextLength) } : {}),
      ...(deviceClass ? {
        speed: {
          deviceClass,
          ...(given(this.minDecodeTps) ? { minDecodeTokensPerSecond: Number(this.minDecodeTps) } : {}),
          ...(given(this.minPrefillTps) ? { minPrefillTokensPerSecond: Number(this.minPrefillTps) } : {}),
        },
      } : {}),
    };
    return Object.keys(hw).length ? hw : undefined;
  }

  private objectiveFields(): Objective {
    switch (this.objective) {
      case 'smallest_bytes': return { kind: 'smallest_bytes' };
      case 'best_score': return {
        kind: 'best_score', task: this.objectiveTask, metric: this.objectiveMetric,
        ...(given(this.objectiveMaxBytes) ? { maxBytes: Number(this.objectiveMaxBytes) } : {}),
      };
      case 'weighted': return {
        kind: 'weighted',
        terms: this.terms.map((t) => ({ task: t.task, metric: t.metric, weight: Number(t.weight) })),
        ...(given(this.bytesWeight) ? { bytesWeight: Number(this.bytesWeight) } : {}),
      };
    }
  }

  /** The payload fields (unsigned); errors in the text fields are reported by name. */
  fields(): Fields {
    const constraints: Constraint[] = this.constraints.map((c) => ({
      task: c.task, metric: c.metric, op: c.op, ...(c.mode === 'value' ? { value: Number(c.amount) } : { fraction_of_base: Number(c.amount) }),
    }));
    const objective = this.objectiveFields();
    const hardware = this.hardware();
    const payout = this.payout.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
    if (payout.some((x) => !Number.isFinite(x))) throw new Error(`payout: "${this.payout}" is not a comma-separated list of numbers`);
    let metrics: Record<string, Record<string, number>> | undefined;
    for (const line of this.declared.split(/[\n,;]+/).map((l) => l.trim()).filter(Boolean)) {
      const m = /^([a-z0-9_]+)\.([a-z0-9_@]+)\s*=\s*(-?[\d.eE+-]+)$/.exec(line);
      if (!m) throw new Error(`declared base metrics: "${line}" is not task.metric = value`);
      ((metrics ??= {})[m[1]] ??= {})[m[2]] = Number(m[3]);
    }
    return {
      title: this.title.trim(),
      base: { name: this.baseName.trim(), sha256: this.baseSha256.trim().toLowerCase(), bytes: Number(this.baseBytes), ...(this.baseUri.trim() ? { uri: this.baseUri.trim() } : {}), ...(metrics ? { metrics } : {}) },
      ...(hardware ? { hardware } : {}),
      constraints, objective,
      bid: { amount: Number(this.bidAmount), currency: this.currency },
      deadlineEpochs: Number(this.deadlineEpochs),
      payout,
    };
  }
}
