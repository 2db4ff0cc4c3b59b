/**
 * The EKS operations the emulator serves, independent of HTTP, grouped by resource: each takes the
 * request fields the REST API carries and returns the response body, or throws an EksError. The
 * groups share one EmulatorContext (state, dependencies, background tasks). Long-running work
 * (control-plane updates, node group rolls, add-on updates) runs in the background and is
 * cancelled by reset().
 */
import { AddonOperations } from "./addons.js";
import { ClusterOperations } from "./clusters.js";
import { EmulatorContext, type CreationTimes, type EmulatorDeps } from "./context.js";
import { invalidParameter } from "./errors.js";
import { InsightOperations } from "./insights.js";
import { NodegroupOperations } from "./nodegroups.js";
import type { Json } from "./request.js";
import type { EmulatorState } from "./state.js";
import { TagOperations } from "./tags.js";
import { UpdateOperations } from "./updates.js";

export class EksEmulator {
  readonly clusters: ClusterOperations;
  readonly updates: UpdateOperations;
  readonly nodegroups: NodegroupOperations;
  readonly addons: AddonOperations;
  readonly insights: InsightOperations;
  readonly tags: TagOperations;
  private readonly context: EmulatorContext;

  constructor(deps: EmulatorDeps) {
    this.context = new EmulatorContext(deps);
    this.clusters = new ClusterOperations(this.context);
    this.updates = new UpdateOperations(this.context);
    this.nodegroups = new NodegroupOperations(this.context);
    this.addons = new AddonOperations(this.context);
    this.insights = new InsightOperations(this.context);
    this.tags = new TagOperations(this.context);
  }

  get state(): EmulatorState {
    return this.context.state;
  }

  /** Cancels every background task and forgets all EKS state (POST /sandbox/reset). */
  async reset(): Promise<void> {
    await this.context.reset();
  }

  /**
   * Sandbox-wide knobs (PUT /sandbox/settings): how long creations take. Scenario seeding runs
   * with none, so seeded clusters are ACTIVE at once; a test sets them to exercise the waits.
   */
  configureSandbox(body: Json): Json {
    const current = this.context.creation;
    const seconds = (key: keyof CreationTimes): number => {
      const value = body[key];
      if (value === undefined) return current[key];
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw invalidParameter(`${key} must be a non-negative number of seconds`);
      return value;
    };
    this.context.creation = { clusterSeconds: seconds("clusterSeconds"), nodegroupSeconds: seconds("nodegroupSeconds"), addonSeconds: seconds("addonSeconds") };
    return { creation: { ...this.context.creation } };
  }

  /** Waits for background tasks to settle (used on shutdown). */
  async drainTasks(): Promise<void> {
    await this.context.drainTasks();
  }
}
