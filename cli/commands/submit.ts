import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { dirSource } from '../../node/data-source';
import { fileSource, modelFileSet } from '../../node/files';
import { DEFAULT_DATA_DIR } from '../../node/paths';
import { loadTaskLibrary } from '../../node/tasks';
import { evaluate } from '../../src/eval/evaluate';
import { Result } from '../../src/eval/result';
import { sha256Hex } from '../../src/io/hash';
import { signEnvelope, submissionPayload } from '../../src/market/payload';
import { firstIssue } from '../../src/market/schema';
import { requiredTasks } from '../../src/market/scoring';
import { keyFromUri } from '../../src/market/signing';
import { endProgress, num, parse, progressLine, report, UsageError, type Command } from '../command';
import { backendOf, openModel, openRuntime, tokenizerOf } from '../load';
import { marketClient, uploadFile } from './request';

export const submitCommand: Command = {
  usage: '<artifact> --request ID --key <uri> [--result result.json | --limit N --seed S --data DIR --backend webgpu|cpu] [--recipe recipe.json] [--server URL] [--json]',
  summary: 'sign and submit an artifact for a request: uploads it, claims a Result (--result, or measured now on the request\'s tasks)',
  async run(argv, signal) {
    const { values, positionals } = parse(argv, {
      request: { type: 'string' }, key: { type: 'string' }, result: { type: 'string' }, recipe: { type: 'string' }, server: { type: 'string' },
      limit: { type: 'string' }, seed: { type: 'string' }, data: { type: 'string' }, backend: { type: 'string' },
    });
    const path = positionals[0];
    if (!path) throw new UsageError('give the artifact file: lab submit <artifact> --request ID --key <uri>');
    if (!existsSync(path)) throw new Error(`${path}: no such file or directory`);
    if (!values.request) throw new UsageError('--request ID is required (see lab request list)');
    const key = (values.key as string | undefined) ?? process.env.LAB_KEY;
    if (!key) throw new UsageError('--key <uri> (or $LAB_KEY) is required: the miner\'s sr25519 secret URI');
    const client = marketClient(values.server);
    const src = fileSource(path);
    const sha256 = await sha256Hex(src, signal);

    let result: Result;
    if (values.result) {
      const r = Result.safeParse(JSON.parse(readFileSync(values.result as string, 'utf8')));
      if (!r.success) throw new UsageError(`${values.result}: not a Result (lab eval --json): ${firstIssue(r.error)}`);
      result = r.data;
    } else {
      // measure now, on the tasks the request names (runtimeBytes at its context length, as the validator computes it)
      const { request } = await client.getRequest(values.request as string);
      const library = loadTaskLibrary();
      const tasks = requiredTasks(request).map((t) => {
        const task = library.get(t);
        if (!task) throw new Error(`the request names task "${t}", which static/tasks does not define`);
        return task;
      });
      const dataDir = (values.data as string | undefined) ?? DEFAULT_DATA_DIR;
      const backend = backendOf(values.backend);
      const model = await openModel(path, signal);
      const rt = await openRuntime(model, backend);
      result = await evaluate({
        model, runtime: rt, tokenizer: tokenizerOf(model), tasks, data: dirSource(dataDir),
        limit: values.limit === undefined ? undefined : num(values.limit, 'limit', 0), seed: (values.seed as string | undefined) ?? sha256.slice(0, 16),
        artifactSha256: sha256, contextLength: request.hardware?.contextLength, bytesOnDisk: [...modelFileSet(path).values()].reduce((s, f) => s + f.size, 0),
        host: 'node', adapter: backend === 'webgpu' ? 'dawn' : null, peakHostBytes: () => process.resourceUsage().maxRSS * 1024,
        signal, onProgress: progressLine,
      });
      endProgress();
      rt.dispose();
    }
    if (result.artifactSha256 === null) result = { ...result, artifactSha256: sha256 };
    if (result.artifactSha256 !== sha256) throw new UsageError(`${values.result}: this Result measured artifact ${result.artifactSha256}, not ${path} (${sha256})`);

    await uploadFile(client, path, sha256);
    const { signer } = await keyFromUri(key);
    const payload = submissionPayload({
      requestId: values.request as string,
      artifact: { sha256, bytes: src.size, name: basename(path).replace(/[^\w.-]/g, '_') },
      result,
      recipe: values.recipe ? JSON.parse(readFileSync(values.recipe as string, 'utf8')) : null,
      miner: signer.address,
    });
    const r = await client.submit(await signEnvelope(payload, signer));
    report(!!values.json, { ...r, miner: signer.address, artifact: payload.artifact, claimed: result.tasks.map((t) => ({ task: t.task, metrics: t.metrics, n: t.n })) }, () =>
      `submission ${r.id} accepted for validation in epoch ${r.epoch} (miner ${signer.address}, artifact ${sha256}, ownership ${r.ownership})`);
  },
};
