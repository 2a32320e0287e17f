// A hash router: #/lab, #/mine, #/market, #/validator, #/cache. Hash links work on any static host and keep
// the back button meaningful; the page list is the one place that names the pages.
export const PAGES = [
  { id: 'lab', label: 'Lab', title: 'Compress and measure a model' },
  { id: 'mine', label: 'Mine', title: 'Search for the best compression of a request' },
  { id: 'market', label: 'Market', title: 'Post requests, browse results, preview winners' },
  { id: 'validator', label: 'Validator', title: 'Epochs, queue and verdicts' },
  { id: 'cache', label: 'Cache', title: 'Models stored in this browser' },
] as const;

export type PageId = (typeof PAGES)[number]['id'];

const parse = (hash: string): PageId => {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return (PAGES.find((p) => p.id === id)?.id ?? 'lab') as PageId;
};

export class Router {
  page = $state<PageId>(parse(location.hash));

  constructor() {
    addEventListener('hashchange', () => {
      this.page = parse(location.hash);
    });
  }

  go(page: PageId): void {
    location.hash = `#/${page}`;
  }
}
