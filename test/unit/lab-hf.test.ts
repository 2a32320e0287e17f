// Which files of a Hugging Face repo the Lab downloads for "owner/name" (no network: the choice is pure).
import { expect, it } from 'vitest';
import { hfFiles, hfFileUrl, parseHfRef } from '../../src/lab/hf';

it('parses repo ids, file paths and hub links; refuses other URLs', () => {
  expect(parseHfRef('HuggingFaceTB/SmolLM2-135M')).toEqual({ repo: 'HuggingFaceTB/SmolLM2-135M', revision: 'main', file: null });
  expect(parseHfRef('owner/repo/q4/model-Q4_0.gguf')).toEqual({ repo: 'owner/repo', revision: 'main', file: 'q4/model-Q4_0.gguf' });
  expect(parseHfRef('https://huggingface.co/owner/repo/blob/v1.0/model.gguf')).toEqual({ repo: 'owner/repo', revision: 'v1.0', file: 'model.gguf' });
  expect(parseHfRef('https://example.com/model.gguf')).toBeNull();
  expect(parseHfRef('just-a-word')).toBeNull();
  expect(hfFileUrl({ repo: 'o/r', revision: 'main', file: null }, 'a b/c.gguf')).toBe('https://huggingface.co/o/r/resolve/main/a%20b/c.gguf');
});

it('picks a checkpoint, else the single GGUF, and names the problem otherwise', () => {
  const ref = parseHfRef('o/r')!;
  expect(hfFiles(ref, ['README.md', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'onnx/model.onnx']))
    .toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
  expect(hfFiles(ref, ['README.md', 'stories.gguf'])).toEqual(['stories.gguf']);
  expect(() => hfFiles(ref, ['a-Q4_0.gguf', 'a-Q8_0.gguf'])).toThrow('o/r has 2 GGUF files; name one, e.g. o/r/a-Q4_0.gguf');
  expect(() => hfFiles(ref, ['README.md'])).toThrow(/neither safetensors \+ config.json nor a GGUF/);
  expect(() => hfFiles(parseHfRef('o/r/x.gguf')!, ['y.gguf'])).toThrow('o/r has no file x.gguf');
});
