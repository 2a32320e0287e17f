/** Where task data comes from: ../shared/data on disk (node/data-source.ts), a picked folder or a URL in the app. */
export interface DataSource {
  readonly name: string;
  readText(path: string): Promise<string>;
  /** File names directly inside a folder (for formats spread over files, like MMLU's one CSV per subject). */
  list(dir: string): Promise<string[]>;
}

/** Files the user picked in the browser (webkitRelativePath or plain names) as a DataSource. */
export function fileListSource(files: Iterable<File>, name = 'picked files'): DataSource {
  const byPath = new Map<string, File>();
  for (const f of files) {
    const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
    byPath.set(rel.split('/').slice(rel.includes('/') ? 1 : 0).join('/'), f);
  }
  return {
    name,
    async readText(path) {
      const f = byPath.get(path);
      if (!f) throw new Error(`${name}: ${path} was not among the picked files`);
      return f.text();
    },
    async list(dir) {
      const prefix = dir.endsWith('/') ? dir : `${dir}/`;
      return [...byPath.keys()].filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/')).map((p) => p.slice(prefix.length));
    },
  };
}

/** A URL prefix; listing needs an `index.json` (array of names) in the folder, since HTTP cannot list. */
export function urlSource(base: string, fetcher: typeof fetch = fetch): DataSource {
  const url = (p: string) => new URL(p, base.endsWith('/') ? base : `${base}/`).href;
  const get = async (p: string) => {
    const r = await fetcher(url(p));
    if (!r.ok) throw new Error(`${url(p)}: HTTP ${r.status}`);
    return r.text();
  };
  return { name: base, readText: get, list: async (dir) => JSON.parse(await get(`${dir.replace(/\/$/, '')}/index.json`)) };
}
