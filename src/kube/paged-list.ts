// Lists read page by page (limit and continue), each item slimmed as its page arrives: the
// operator never holds more than one page of whole objects, whatever the size of the cluster.
import { setImmediate as nextTurn } from "node:timers/promises";
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
  /** May parse each item only when it is reached (raw-list.ts): the token is known first. Read once. */
  readonly items: Iterable<T> | AsyncIterable<T>;
  metadata?: { _continue?: string };
  /** Drops a page whose items will not be read, and what it holds open (its response). */
  discard?: () => void;
}

/**
 * Every item of a list, through `keep`. A continue token lives about five minutes on the API
 * server (etcd compaction); when it has expired the list starts over rather than stitching pages
 * from two different moments.
 *
 * The next page is asked for before this one's items are read: the API server encodes page n+1
 * while this process parses and slims page n. At 60,000 pods that is 120 pages, and each side's
 * time per page was of the same order (docs/benchmarks.md), so doing them one after the other
 * nearly doubled the preflight's read.
 */
export async function listAll<T, U>(readPage: (request: PageRequest) => Promise<Page<T>>, keep: (item: T) => U, pageSize = PAGE_SIZE): Promise<U[]> {
  for (let attempt = 0; ; attempt++) {
    const kept: U[] = [];
    let token: string | undefined;
    let pending = readPage({ limit: pageSize });
    try {
      for (;;) {
        const page = await pending;
        token = page.metadata?._continue || undefined;
        if (token !== undefined) {
          pending = readPage({ limit: pageSize, _continue: token });
          // Settled by the await above on the next turn; this only keeps a failure from being
          // reported as unhandled if reading this page throws first.
          pending.catch(() => undefined);
          // One turn of the event loop, so that the request is on its way before parsing starts.
          await nextTurn();
        }
        for await (const item of page.items) kept.push(keep(item));
        if (token === undefined) return kept;
      }
    } catch (error) {
      // The next page was asked for and will not be read.
      if (token !== undefined) pending.then((page) => page.discard?.(), () => undefined);
      if (token === undefined || attempt >= RESTARTS || readKubeError(error).statusCode !== 410) throw error;
    }
  }
}
