// In-memory stand-ins for the API server used by the runtime unit tests.
import assert from "node:assert/strict";
import type * as k8s from "@kubernetes/client-node";
import { AlreadyExistsError, ConflictError, TransientError } from "../../../src/util/errors.js";
import type { ListResult, WatchFunction } from "../../../src/runtime/informer.js";
import type { LeaseClient } from "../../../src/runtime/leader-election.js";

export interface Item {
  metadata: { name: string; namespace?: string; resourceVersion: string };
  data?: string;
}

export function item(namespace: string | undefined, name: string, resourceVersion: string, data?: string): Item {
  return { metadata: { name, namespace, resourceVersion }, data };
}

export interface OpenWatch {
  query: Record<string, unknown>;
  emit(type: string, object: unknown): void;
  end(err: unknown): void;
  aborted: boolean;
}

/** A fake API server: list answers are queued by the test; watches stay open until ended. */
export class FakeServer {
  lists: Array<ListResult<Item> | Error> = [];
  listCalls = 0;
  watches: OpenWatch[] = [];

  list = (): Promise<ListResult<Item>> => {
    this.listCalls++;
    const next = this.lists.shift();
    if (next === undefined) return Promise.reject(new Error("no list answer queued"));
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(structuredClone(next));
  };

  watch: WatchFunction = (_path, query, onEvent, onDone) => {
    const open: OpenWatch = {
      query,
      aborted: false,
      emit: (type, object) => onEvent(type, object),
      end: (err) => onDone(err),
    };
    this.watches.push(open);
    return Promise.resolve({
      abort: () => {
        open.aborted = true;
        onDone(Object.assign(new Error("aborted"), { name: "AbortError" }));
      },
    });
  };

  lastWatch(): OpenWatch {
    const watch = this.watches.at(-1);
    assert.ok(watch, "no watch was opened");
    return watch;
  }
}

/** One Lease with the API server's optimistic concurrency; calls can be made to fail or hang. */
export class FakeLeaseStore {
  lease: k8s.V1Lease | undefined;
  private version = 0;
  failing = false;
  hanging = false;
  writes = 0;

  client(): LeaseClient {
    return {
      get: () => this.call(() => (this.lease ? structuredClone(this.lease) : undefined)),
      create: (lease) =>
        this.call(() => {
          if (this.lease) throw new AlreadyExistsError("lease exists");
          return this.store(lease);
        }),
      replace: (lease) =>
        this.call(() => {
          if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw new ConflictError("stale resourceVersion");
          return this.store(lease);
        }),
    };
  }

  holder(): string | undefined {
    return this.lease?.spec?.holderIdentity;
  }

  private store(lease: k8s.V1Lease): k8s.V1Lease {
    this.writes++;
    // Keep what a JSON round trip through the API server would keep.
    const stored = JSON.parse(JSON.stringify(lease)) as k8s.V1Lease;
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.version) };
    this.lease = stored;
    return structuredClone(stored);
  }

  private call<T>(operation: () => T): Promise<T> {
    if (this.hanging) return new Promise<T>(() => undefined);
    if (this.failing) return Promise.reject(new TransientError("api server unavailable"));
    try {
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

