// Lists read page by page (limit and continue), each item slimmed as its page arrives: the
// operator never holds more than one page of whole objects, whatever the size of the cluster.
import { readKubeError } from "../util/classify.js";

/**
 * 500 is what kubectl asks for (--chunk-size): one page of pods is a few megabytes of JSON, and a
 * 60,000-pod list is 120 requests, which the API server serves from its watch cache.
 */
export const PAGE_SIZE = 500;
/** How many times a list starts over when its continue token expired (410 Gone) between pages. */
const RESTARTS = 2;

export interface PageRequest {
  limit: number;
  _continue?: string;
}

export interface Page<T> {
  items: T[];
  metadata?: { _continue?: string };
}

/**
 * Every item of a list, through `keep`. A continue token lives about five minutes on the API
 * server (etcd compaction); when it has expired the list starts over rather than stitching pages
 * from two different moments.
 */
export async function listAll<T, U>(readPage: (request: PageRequest) => Promise<Page<T>>, keep: (item: T) => U, pageSize = PAGE_SIZE): Promise<U[]> {
  for (let attempt = 0; ; attempt++) {
    const kept: U[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await readPage(token === undefined ? { limit: pageSize } : { limit: pageSize, _continue: token });
        for (const item of page.items) kept.push(keep(item));
        token = page.metadata?._continue || undefined;
      } while (token !== undefined);
      return kept;
    } catch (error) {
      if (token === undefined || attempt >= RESTARTS || readKubeError(error).statusCode !== 410) throw error;
    }
  }
}
