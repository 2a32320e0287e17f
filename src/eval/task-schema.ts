// A benchmark is data: this schema is everything the runner needs to know about one task
// (lm-evaluation-harness's YAML task configs, reduced to what our runner interprets).
import { z } from 'zod';

const Template = z.string().describe('text with {{field}} placeholders filled from each document');

export const TaskData = z.object({
  /** Path relative to the data root (../shared/data in tests; a folder or URL the user picks in the app). */
  path: z.string(),
  format: z.enum(['jsonl', 'hellaswag_txt', 'mmlu_csv', 'text']),
});

const Common = {
  id: z.string().regex(/^[a-z0-9_]+$/),
  name: z.string(),
  description: z.string().optional(),
  data: TaskData,
  version: z.number().int().default(1),
};

export const PerplexityTask = z.object({
  ...Common,
  output_type: z.literal('loglikelihood_rolling'),
  context_length: z.number().int().positive().default(512),
  /** Chunks evaluated when no --limit is given. */
  max_chunks: z.number().int().positive().optional(),
});

export const MultipleChoiceTask = z.object({
  ...Common,
  output_type: z.literal('multiple_choice'),
  doc_to_text: Template,
  /** A field holding the list of choices, or a fixed list of templates. */
  doc_to_choice: z.union([z.string(), z.array(Template)]),
  /** Field with the gold index (0-based int) or letter (A, B, ...). */
  doc_to_target: z.string(),
  target_delimiter: z.string().default(' '),
  fewshot_delimiter: z.string().default('\n\n'),
  num_fewshot: z.number().int().min(0).default(0),
  /** Draw few-shot examples only from documents with the same value of this field (MMLU: subject). */
  fewshot_group: z.string().optional(),
  /** Text put before the few-shot examples; may use {{field}} of the scored document (e.g. MMLU's subject). */
  description_template: Template.optional(),
  metrics: z.array(z.enum(['acc', 'acc_norm'])).default(['acc', 'acc_norm']),
});

export const LoglikelihoodTask = z.object({
  ...Common,
  output_type: z.literal('loglikelihood'),
  doc_to_text: Template,
  doc_to_target: Template,
  target_delimiter: z.string().default(' '),
  metrics: z.array(z.enum(['acc', 'perplexity'])).default(['acc', 'perplexity']),
});

export const GenerateUntilTask = z.object({
  ...Common,
  output_type: z.literal('generate_until'),
  doc_to_text: Template,
  /** The answer exact_match compares with. */
  doc_to_target: Template.optional(),
  /**
   * pass@1: the Python program that tests one generation, from the document's fields plus {{completion}}
   * (the generated text, cut at the stop strings). It passes when it runs to the end without raising.
   * HumanEval: "{{prompt}}{{completion}}\n{{test}}\ncheck({{entry_point}})".
   */
  doc_to_program: Template.optional(),
  /** pass@1: the time limit of one program, counted from its start. */
  timeout_ms: z.number().int().positive().default(10_000),
  until: z.array(z.string()).default(['\n\n']),
  /** Drop the generation's leading whitespace before the stop strings apply; off for code, where it is indentation. */
  trim_start: z.boolean().default(true),
  max_gen_toks: z.number().int().positive().default(64),
  metrics: z.array(z.enum(['exact_match', 'pass@1'])).default(['exact_match']),
}).superRefine((t, ctx) => {
  const needs = { exact_match: 'doc_to_target', 'pass@1': 'doc_to_program' } as const;
  for (const m of t.metrics) {
    if (t[needs[m]] === undefined) ctx.addIssue({ code: 'custom', path: [needs[m]], message: `metric ${m} needs ${needs[m]}` });
  }
});

export const TaskDefinition = z.discriminatedUnion('output_type', [PerplexityTask, MultipleChoiceTask, LoglikelihoodTask, GenerateUntilTask]);
export type TaskDefinition = z.infer<typeof TaskDefinition>;
export type MultipleChoiceTask = z.infer<typeof MultipleChoiceTask>;
export type LoglikelihoodTask = z.infer<typeof LoglikelihoodTask>;
export type PerplexityTask = z.infer<typeof PerplexityTask>;
export type GenerateUntilTask = z.infer<typeof GenerateUntilTask>;

export function parseTask(json: unknown, source = 'task'): TaskDefinition {
  const r = TaskDefinition.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${source}: invalid task definition at ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}
