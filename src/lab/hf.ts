// Loading straight from the Hugging Face Hub: which files of a repo make a model the importers read. Pure (the
// worker does the fetching), so the choice is tested without a network.
export const HF_BASE = 'https://huggingface.co';

export interface HfRef { repo: string; revision: string; file: string | null }

/** "owner/name", "owner/name/path/file.gguf" or an https://huggingface.co/owner/name[/blob|resolve/rev/file] link. */
export function parseHfRef(text: string): HfRef | null {
  const t = text.trim().replace(/^https?:\/\/huggingface\.co\//, '').replace(/\/+$/, '');
  const m = /^([\w.-]+\/[\w.-]+)(?:\/(?:(?:blob|resolve|tree)\/([\w.-]+)\/)?(.+))?$/.exec(t);
  if (!m) return null;
  return { repo: m[1], revision: m[2] ?? 'main', file: m[3] ?? null };
}

export const hfFileUrl = (ref: HfRef, file: string) => `${HF_BASE}/${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;

const TOKENIZER = ['tokenizer.json', 'tokenizer_config.json'];

/**
 * The files to download: the named one; else an HF checkpoint (config.json, tokenizer files, every
 * .safetensors shard and its index); else the repo's single GGUF. Several GGUFs and no checkpoint: ask.
 */
export function hfFiles(ref: HfRef, siblings: readonly string[]): string[] {
  if (ref.file) {
    if (!siblings.includes(ref.file)) throw new Error(`${ref.repo} has no file ${ref.file}`);
    return [ref.file];
  }
  const top = siblings.filter((f) => !f.includes('/'));
  const shards = top.filter((f) => f.endsWith('.safetensors'));
  if (top.includes('config.json') && shards.length) {
    return ['config.json', ...TOKENIZER.filter((f) => top.includes(f)), ...top.filter((f) => f === 'model.safetensors.index.json'), ...shards];
  }
  const ggufs = siblings.filter((f) => f.toLowerCase().endsWith('.gguf'));
  if (ggufs.length === 1) return ggufs;
  if (ggufs.length > 1) throw new Error(`${ref.repo} has ${ggufs.length} GGUF files; name one, e.g. ${ref.repo}/${ggufs[0]}`);
  throw new Error(`${ref.repo} has neither safetensors + config.json nor a GGUF file`);
}

/** The repo's file list from the Hub API. */
export async function hfSiblings(ref: HfRef, signal?: AbortSignal): Promise<string[]> {
  const url = `${HF_BASE}/api/models/${ref.repo}/revision/${encodeURIComponent(ref.revision)}`;
  let r: Response;
  try {
    r = await fetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new Error(`could not reach the Hugging Face Hub for ${ref.repo} (offline?): ${(e as Error).message}`);
  }
  if (r.status === 401 || r.status === 404) throw new Error(`${ref.repo}@${ref.revision}: not found on the Hub (or gated: download it and drop the files here)`);
  if (!r.ok) throw new Error(`${ref.repo}: the Hub answered HTTP ${r.status}`);
  const json = (await r.json()) as { siblings?: { rfilename: string }[] };
  return (json.siblings ?? []).map((s) => s.rfilename);
}
