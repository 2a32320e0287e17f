// The market's documents, versioned: what a buyer posts (Request), what a miner signs (Submission), what a
// validator decides (Verdict) and what an epoch's close records (Epoch). Requests and submissions travel as
// signed envelopes `{ payload, signature }`; the signature covers canonicalJson(payload) (see payload.ts).
import { z } from 'zod';
import { Result } from '../eval/result';

export const REQUEST_SCHEMA = 'lab.request/1';
export const SUBMISSION_SCHEMA = 'lab.submission/1';
export const VERDICT_SCHEMA = 'lab.verdict/1';
export const EPOCH_SCHEMA = 'lab.epoch/1';

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex sha256 (64 characters)');
/** An SS58 address; whether it decodes to a real sr25519 key is the signature check's job. */
export const Address = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{40,60}$/, 'expected an SS58 address');
/** At least 64 bits of randomness, as hex. */
export const Nonce = z.string().regex(/^(0x)?[0-9a-f]{16,64}$/, 'expected 16 to 64 hex characters');
/** Short ids (first 16 hex of the sha256 of the signed bytes). */
export const Id = z.string().regex(/^[0-9a-f]{16}$/, 'expected a 16-character hex id');
export const Signature = z.string().regex(/^0x[0-9a-f]{128}$/, 'expected a 0x-prefixed 64-byte hex signature');
const TaskId = z.string().regex(/^[a-z0-9_]+$/);
const MetricName = z.string().regex(/^[a-z0-9_@]+$/);
const Bytes = z.number().int().positive();
/** Milliseconds since 1970 (UTC). */
const Millis = z.number().int().nonnegative();

/**
 * One quality constraint: `task.metric op threshold`, the threshold given as a value or as a fraction of
 * the base model's measurement ("coding >= 0.9 of base"); "<=" expresses an upper bound ("cannot write poetry").
 */
export const Constraint = z.strictObject({
  task: TaskId,
  metric: MetricName,
  op: z.enum(['>=', '<=']),
  value: z.number().finite().optional(),
  fraction_of_base: z.number().positive().finite().optional(),
}).refine((c) => (c.value === undefined) !== (c.fraction_of_base === undefined), {
  message: 'give exactly one of value or fraction_of_base',
});
export type Constraint = z.infer<typeof Constraint>;

const MetricRef = { task: TaskId, metric: MetricName };

/** How valid submissions are ranked (higher score wins; ties go to the earlier submission). */
export const Objective = z.discriminatedUnion('kind', [
  /** Fewest bytes on disk. */
  z.strictObject({ kind: z.literal('smallest_bytes') }),
  /** Best value of one metric, optionally under a byte budget (over budget = not eligible). */
  z.strictObject({ kind: z.literal('best_score'), ...MetricRef, maxBytes: Bytes.optional() }),
  /** Σ weight × value (sign flipped for lower-is-better metrics) − bytesWeight × bytes / base bytes. */
  z.strictObject({
    kind: z.literal('weighted'),
    terms: z.array(z.strictObject({ ...MetricRef, weight: z.number().finite() })).min(1).max(16),
    bytesWeight: z.number().finite().optional(),
  }),
]);
export type Objective = z.infer<typeof Objective>;

export const Hardware = z.strictObject({
  maxBytesOnDisk: Bytes.optional(),
  /**
   * Runtime memory as src/model/runtime-memory.ts defines it (weights as stored + f32 KV cache for
   * `contextLength` positions + one decode step's activations); the validator computes it from the artifact.
   */
  maxRamBytes: Bytes.optional(),
  /**
   * Positions the KV cache of that bound holds. The service requires it beside maxRamBytes; a request stored
   * before it existed counts the artifact's own maxPositions.
   */
  contextLength: z.number().int().positive().max(1 << 24).optional(),
  /** Speed on a named device class; the validator cannot re-measure another machine's speed, so it checks the claim. */
  speed: z.strictObject({
    deviceClass: z.string().min(1).max(100),
    minDecodeTokensPerSecond: z.number().positive().optional(),
    minPrefillTokensPerSecond: z.number().positive().optional(),
  }).optional(),
});

export const RequestPayload = z.strictObject({
  schema: z.literal(REQUEST_SCHEMA),
  title: z.string().min(1).max(200),
  base: z.strictObject({
    name: z.string().min(1).max(200),
    sha256: Sha256,
    bytes: Bytes,
    uri: z.string().max(2048).optional(),
    /** Base metrics the buyer declares, used for fraction_of_base when the validator has no copy of the base model. */
    metrics: z.record(TaskId, z.record(MetricName, z.number().finite())).optional(),
  }),
  hardware: Hardware.optional(),
  constraints: z.array(Constraint).max(32),
  objective: Objective,
  bid: z.strictObject({ amount: z.number().nonnegative().finite(), currency: z.enum(['TAO', 'USD']) }),
  /** Epochs the request stays open (counting the one it was posted in) before it expires unfulfilled. */
  deadlineEpochs: z.number().int().min(1).max(10_000),
  /** Shares of the bid for ranks 1..N (each in (0, 1], summing to at most 1). */
  payout: z.array(z.number().positive().max(1)).min(1).max(10)
    .refine((p) => p.reduce((s, x) => s + x, 0) <= 1 + 1e-9, { message: 'payout shares sum to more than 1' }),
  buyer: Address,
  nonce: Nonce,
  timestamp: Millis,
});
export type RequestPayload = z.infer<typeof RequestPayload>;

export const SubmissionPayload = z.strictObject({
  schema: z.literal(SUBMISSION_SCHEMA),
  requestId: Id,
  /** The recipe that produced the artifact (lab.recipe/1; any JSON until the recipe format settles). */
  recipe: z.unknown(),
  artifact: z.strictObject({
    sha256: Sha256,
    bytes: Bytes,
    /** File name; its extension tells the loader the format (.gguf, .safetensors). */
    name: z.string().regex(/^[\w][\w.-]{0,127}$/, 'a plain file name (letters, digits, . _ -)'),
    uri: z.string().max(2048).optional(),
  }),
  /** What the miner measured: the Result schema of src/eval/result.ts. */
  result: Result,
  miner: Address,
  nonce: Nonce,
  timestamp: Millis,
});
export type SubmissionPayload = z.infer<typeof SubmissionPayload>;

export const signed = <T extends z.ZodType>(payload: T) => z.strictObject({ payload, signature: Signature });
export const SignedRequest = signed(RequestPayload);
export type SignedRequest = z.infer<typeof SignedRequest>;
export const SignedSubmission = signed(SubmissionPayload);
export type SignedSubmission = z.infer<typeof SignedSubmission>;

const MetricValue = z.object({ value: z.number(), stderr: z.number().nonnegative() });
/** task -> metric -> value ± stderr */
export const Measured = z.record(z.string(), z.record(z.string(), MetricValue));
export type Measured = z.infer<typeof Measured>;

export const ClaimCheck = z.object({
  task: z.string(), metric: z.string(),
  claimed: z.number(), claimedStderr: z.number(),
  measured: z.number(), measuredStderr: z.number(),
  /** How far the claim may exceed the measurement (in the metric's better direction). */
  tolerance: z.number(),
  ok: z.boolean(),
});
export type ClaimCheck = z.infer<typeof ClaimCheck>;

export const ConstraintCheck = z.object({
  /** e.g. "arc_easy.acc_norm >= 0.9 × base (0.3500) = 0.3150" */
  text: z.string(),
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  /** measured by the validator, computed from the artifact (bytes, RAM), or taken from the miner's claim (speed on another device class). */
  source: z.enum(['measured', 'claimed', 'artifact']),
  ok: z.boolean(),
  reason: z.string().optional(),
});
export type ConstraintCheck = z.infer<typeof ConstraintCheck>;

export const Verdict = z.object({
  schema: z.literal(VERDICT_SCHEMA),
  submissionId: Id,
  epoch: z.number().int().nonnegative(),
  status: z.enum(['accepted', 'rejected']),
  /** Every reason for a rejection, each naming the problem; empty when accepted. */
  reasons: z.array(z.string()),
  /** Set when a claim exceeded the re-measurement beyond tolerance: recorded against the miner. */
  overClaim: z.boolean(),
  measured: z.object({
    tasks: Measured,
    n: z.record(z.string(), z.number().int().nonnegative()),
    bytesOnDisk: z.number().int().nonnegative(),
    /** Runtime memory computed from the artifact (src/model/runtime-memory.ts) for `contextLength` positions. */
    runtimeBytes: z.number().int().nonnegative(),
    contextLength: z.number().int().positive().optional(),
    backend: z.enum(['cpu', 'webgpu']),
    limit: z.number().int().positive(),
  }).nullable(),
  claims: z.array(ClaimCheck),
  constraints: z.array(ConstraintCheck),
  score: z.number().nullable(),
  at: Millis,
  seconds: z.number().nonnegative(),
});
export type Verdict = z.infer<typeof Verdict>;

export const RankEntry = z.object({
  submissionId: Id,
  miner: z.string(),
  score: z.number(),
  rank: z.number().int().positive(),
  /** Share of the bid and the amount it comes to (0 beyond the top N). */
  share: z.number().nonnegative(),
  amount: z.number().nonnegative(),
});
export type RankEntry = z.infer<typeof RankEntry>;

export const EpochRequestResult = z.object({
  requestId: Id,
  status: z.enum(['fulfilled', 'rolled_over', 'expired']),
  winner: Id.nullable(),
  currency: z.enum(['TAO', 'USD']),
  ranking: z.array(RankEntry),
  /** Rejected submissions of this epoch with their first reason, for the record. */
  rejected: z.array(z.object({ submissionId: Id, miner: z.string(), reason: z.string() })),
});
export type EpochRequestResult = z.infer<typeof EpochRequestResult>;

export const Epoch = z.object({
  schema: z.literal(EPOCH_SCHEMA),
  index: z.number().int().nonnegative(),
  status: z.enum(['open', 'closing', 'closed']),
  startsAt: Millis,
  endsAt: Millis,
  closedAt: Millis.nullable(),
  /** sha256 of the seed, published while the epoch is open; the seed itself once it is closed. */
  seedCommit: Sha256,
  seed: z.string().nullable(),
  results: z.array(EpochRequestResult).nullable(),
});
export type Epoch = z.infer<typeof Epoch>;

/** The first problem of a zod error, as "path: message". */
export function firstIssue(error: z.ZodError): string {
  const i = error.issues[0];
  return `${i.path.join('.') || '(root)'}: ${i.message}`;
}
