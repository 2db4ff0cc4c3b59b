// A full garbage collection after a large read, when the process allows one (`--expose-gc`, which
// config/manager and the Helm chart put in NODE_OPTIONS).
//
// Why: the preflight's snapshot of a 60,000-pod cluster is tens of megabytes of slimmed objects,
// old enough by the end of the read that V8 has moved them out of its young generation. When the
// preflight is done they are garbage, but V8 frees its old generation only at its next major
// collection, which it starts on its own schedule: at 2,000 nodes and 60,000 pods that was up to
// two seconds into the roll that followed, with peaks of 151-167 MiB against 121-133 once it had
// run (docs/benchmarks.md, "One collection after the preflight"). One collection right after the
// read gives them back at once. It pauses the event loop while it runs, once per preflight of a
// large cluster.
//
// Without --expose-gc (npm start, the sandbox's demo) nothing is collected here and V8 decides.

/** Below this many objects read, V8's own schedule is left alone: a small read leaves little behind. */
export const LARGE_READ_OBJECTS = 10_000;

type Collect = () => void;

function exposedGc(): Collect | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? (gc as Collect) : undefined;
}

/**
 * After a read of `objects` objects whose results the caller no longer holds, asks for one full
 * collection on the next turn of the event loop, once the caller's frames are gone. Returns
 * whether one was asked for.
 */
export function collectAfterLargeRead(objects: number, gc: Collect | undefined = exposedGc()): boolean {
  if (gc === undefined || objects < LARGE_READ_OBJECTS) return false;
  setImmediate(() => gc());
  return true;
}
