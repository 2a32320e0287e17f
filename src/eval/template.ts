// {{path}} placeholders (dotted fields and [i] indices) with a few filters, e.g. "{{question|trim}}",
// "{{subject|words}}", "{{choices[0]}}". Deliberately tiny: tasks stay data, not code.
import type { Doc } from './data-formats';

const FILTERS: Record<string, (s: string) => string> = {
  trim: (s) => s.trim(),
  words: (s) => s.replaceAll('_', ' '),
  capitalize: (s) => s.charAt(0).toUpperCase() + s.slice(1),
};

export function lookup(doc: Doc, path: string): unknown {
  let v: unknown = doc;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (v == null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

export function render(template: string, doc: Doc): string {
  return template.replace(/\{\{\s*([^}|]+?)\s*((?:\|\s*\w+\s*)*)\}\}/g, (_, path: string, filters: string) => {
    const v = lookup(doc, path);
    if (v === undefined) throw new Error(`template field "${path}" is missing from the document`);
    let s = typeof v === 'string' ? v : JSON.stringify(v);
    for (const f of filters.split('|').map((x) => x.trim()).filter(Boolean)) {
      const fn = FILTERS[f];
      if (!fn) throw new Error(`unknown template filter "${f}"`);
      s = fn(s);
    }
    return s;
  });
}
