// Parsers from the files benchmarks ship in to documents (plain records the templates read).
// One entry per format; a task names its format in data.format.
import { parseCsv } from './csv';
import type { DataSource } from './data-source';

export type Doc = Record<string, unknown>;

const lines = (text: string) => text.split(/\r?\n/);

export const DATA_FORMATS: Record<string, (src: DataSource, path: string) => Promise<Doc[]>> = {
  async jsonl(src, path) {
    return lines(await src.readText(path)).flatMap((line, i) => {
      if (!line.trim()) return [];
      try {
        return [JSON.parse(line) as Doc];
      } catch (e) {
        throw new Error(`${path}:${i + 1}: not a JSON line (${(e as Error).message})`);
      }
    });
  },

  // llama.cpp's hellaswag_val_full.txt: 6 lines per task: context, gold label, four endings.
  async hellaswag_txt(src, path) {
    const l = lines(await src.readText(path));
    while (l.length && l[l.length - 1] === '') l.pop();
    if (l.length % 6 !== 0) throw new Error(`${path}: ${l.length} lines is not a whole number of 6-line HellaSwag tasks`);
    const docs: Doc[] = [];
    for (let i = 0; i < l.length; i += 6) {
      const gold = Number(l[i + 1]);
      if (!(gold >= 0 && gold < 4)) throw new Error(`${path}:${i + 2}: gold label "${l[i + 1]}" is not 0-3`);
      docs.push({ query: l[i], gold, choices: l.slice(i + 2, i + 6) });
    }
    return docs;
  },

  // hendrycks/test layout: a folder of <subject>_test.csv files, rows: question, A, B, C, D, answer letter.
  async mmlu_csv(src, path) {
    const files = (await src.list(path)).filter((f) => f.endsWith('.csv')).sort();
    if (!files.length) throw new Error(`${path}: no .csv files`);
    const docs: Doc[] = [];
    for (const f of files) {
      const subject = f.replace(/_(test|dev|val)\.csv$/, '').replace(/\.csv$/, '');
      for (const [i, r] of parseCsv(await src.readText(`${path}/${f}`)).entries()) {
        if (r.length === 1 && r[0] === '') continue;
        if (r.length !== 6) throw new Error(`${path}/${f}: row ${i + 1} has ${r.length} fields, expected 6`);
        docs.push({ subject, question: r[0], choices: r.slice(1, 5), answer: r[5].trim() });
      }
    }
    return docs;
  },

  async text(src, path) {
    return [{ text: await src.readText(path) }];
  },
};

export async function loadDocs(src: DataSource, data: { path: string; format: string }): Promise<Doc[]> {
  const parse = DATA_FORMATS[data.format];
  if (!parse) throw new Error(`unknown data format "${data.format}" (known: ${Object.keys(DATA_FORMATS).join(', ')})`);
  return parse(src, data.path);
}
