import { parameterCount } from '../../src/model/architectures';
import { modelBytes, modelParams } from '../../src/model/model';
import { parse, report, type Command } from '../command';
import { openModel } from '../load';

export const inspect: Command = {
  usage: '<model> [--json]',
  summary: 'architecture, parameters, bytes and dtypes of a GGUF, llama2.c .bin or HF folder',
  async run(argv, signal) {
    const { values, positionals } = parse(argv, {});
    const model = await openModel(positionals[0], signal);
    const dtypes: Record<string, number> = {};
    for (const t of model.tensors.values()) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    const result = {
      file: model.source.name,
      format: model.source.format,
      config: model.config,
      parameters: modelParams(model),
      parametersExpected: parameterCount(model.config),
      bytes: modelBytes(model),
      tensors: model.tensors.size,
      dtypes,
      tokenizer: model.tokenizer?.kind ?? null,
    };
    const c = model.config;
    report(!!values.json, result, () => [
      `${result.file}  (${result.format})`,
      `architecture  ${c.architecture}: ${c.numLayers} layers, hidden ${c.hiddenSize}, ffn ${c.intermediateSize}, ` +
        `heads ${c.numHeads} (kv ${c.numKvHeads}, dim ${c.headDim}), vocab ${c.vocabSize}, context ${c.maxPositions}`,
      `rope          ${c.ropeStyle}, theta ${c.ropeTheta}${c.attentionBias ? '; qkv bias' : ''}${c.tieWordEmbeddings ? '; tied embeddings' : ''}`,
      `parameters    ${result.parameters.toLocaleString('en-US')}`,
      `bytes         ${result.bytes.toLocaleString('en-US')}`,
      `tensors       ${result.tensors} (${Object.entries(dtypes).map(([d, n]) => `${n} ${d}`).join(', ')})`,
      `tokenizer     ${result.tokenizer ?? 'none'}`,
    ].join('\n'));
  },
};
