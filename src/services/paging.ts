/** One paging shape for every list: `?page=&limit=` in, `{ <items>, total, page, pages }` out. */
export type PageRequest = { page: number; limit: number };
export type Page<T> = { items: T[]; total: number; page: number; pages: number };

/** Runs a list query for one page and its count together; `pages` is 0 for an empty list. */
export async function pageOf<T>(request: PageRequest, rows: (limit: number, offset: number) => Promise<T[]>, count: () => Promise<number>): Promise<Page<T>> {
  const [items, total] = await Promise.all([rows(request.limit, (request.page - 1) * request.limit), count()]);
  return { items, total, page: request.page, pages: Math.ceil(total / request.limit) };
}
