// What a signature covers, and who can sign. The signed bytes are the UTF-8 of canonicalJson(payload)
// (sorted keys, no whitespace); the payload's `schema` field ("lab.request/1", "lab.submission/1") keeps
// one kind of document from being replayed as another. Signers sign the way the Polkadot extension's
// signRaw({ type: 'bytes' }) does: over the bytes wrapped in <Bytes>...</Bytes>, so a keyring in Node and
// the extension in a browser produce signatures the same verifier accepts.
// No @polkadot/util-crypto here: this file is what the browser bundle needs.
import type { Result } from '../eval/result';
import { sha256OfBytes } from '../io/hash';
import { canonicalJson } from '../recipe/canonical';
import { REQUEST_SCHEMA, SUBMISSION_SCHEMA, type RequestPayload, type SubmissionPayload } from './schema';

export function signingBytes(payload: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(payload));
}

/** A document's id: the first 16 hex characters of the sha256 of its signed bytes. */
export function documentId(payload: unknown): string {
  return sha256OfBytes(signingBytes(payload)).slice(0, 16);
}

export interface Signer {
  /** SS58 address of the sr25519 key. */
  readonly address: string;
  /** Signs `<Bytes>${message}</Bytes>` (what the extension's signRaw with type 'bytes' signs); 0x-hex. */
  signRaw(message: Uint8Array): Promise<string>;
}

export interface Envelope<T> {
  payload: T;
  signature: string;
}

export async function signEnvelope<T>(payload: T, signer: Signer): Promise<Envelope<T>> {
  return { payload, signature: await signer.signRaw(signingBytes(payload)) };
}

/** 16 random bytes as hex, from WebCrypto (browser and Node). */
export function newNonce(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** A request payload from what the buyer chose; schema, buyer, nonce and timestamp filled in. */
export function requestPayload(
  fields: Omit<RequestPayload, 'schema' | 'buyer' | 'nonce' | 'timestamp'>, buyer: string, now = Date.now(),
): RequestPayload {
  return { ...fields, schema: REQUEST_SCHEMA, buyer, nonce: newNonce(), timestamp: now };
}

export function submissionPayload(o: {
  requestId: string; artifact: SubmissionPayload['artifact']; result: Result; recipe?: unknown; miner: string; now?: number;
}): SubmissionPayload {
  return {
    schema: SUBMISSION_SCHEMA, requestId: o.requestId, recipe: o.recipe ?? null, artifact: o.artifact,
    result: o.result, miner: o.miner, nonce: newNonce(), timestamp: o.now ?? Date.now(),
  };
}
