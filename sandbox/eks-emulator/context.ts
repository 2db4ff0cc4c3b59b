/**
 * What every group of EKS operations shares: the dependencies, the state (state.ts), the creation
 * times set through PUT /sandbox/settings, the lookups that answer ResourceNotFoundException the
 * same way everywhere, and the background tasks a reset cancels.
 */
import type { SandboxClock } from "./clock.js";
import type { MotoCloud } from "./cloud.js";
import { resourceNotFound } from "./errors.js";
import type { Logger } from "./log.js";
import type { NodegroupRoller } from "./nodegroup-roller.js";
import { describeError } from "./request.js";
import { addonKey, nodegroupKey, type AddonRecord, type ClusterRecord, type EmulatorState, type NodegroupRecord } from "./state.js";

/** The moto calls the EKS operations make; MotoCloud implements them, unit tests fake them. */
export type EmulatorCloud = Pick<
  MotoCloud,
  | "observeSubnets"
  | "subnetVpcs"
  | "existingSecurityGroups"
  | "createSecurityGroup"
  | "ensureAmi"
  | "createLaunchTemplate"
  | "addLaunchTemplateVersion"
  | "deleteLaunchTemplate"
  | "createGroup"
  | "updateGroup"
  | "deleteGroup"
>;

export interface EmulatorDeps {
  state: EmulatorState;
  cloud: EmulatorCloud;
  clock: SandboxClock;
  region: string;
  log: Logger;
  /** Present when a kube-apiserver backs the sandbox: node group rolls need it. */
  roller?: NodegroupRoller;
  /** The sandbox apiserver's address and CA, reported as the endpoint of mirrored clusters. */
  apiServer?: { server: string; caData?: string };
}

/** EKS seconds that created clusters, node groups and add-ons stay CREATING (0: ACTIVE at once). */
export interface CreationTimes {
  clusterSeconds: number;
  nodegroupSeconds: number;
  addonSeconds: number;
}

export const NO_CREATION_TIME: CreationTimes = { clusterSeconds: 0, nodegroupSeconds: 0, addonSeconds: 0 };

export class EmulatorContext {
  creation: CreationTimes = { ...NO_CREATION_TIME };
  private readonly tasks = new Set<Promise<void>>();
  private abort = new AbortController();

  constructor(readonly deps: EmulatorDeps) {}

  get state(): EmulatorState {
    return this.deps.state;
  }

  /** Cancels every background task, then forgets all EKS state and the creation times. */
  async reset(): Promise<void> {
    this.abort.abort(new Error("sandbox reset"));
    await Promise.allSettled([...this.tasks]);
    this.abort = new AbortController();
    this.deps.state.clear();
    this.creation = { ...NO_CREATION_TIME };
  }

  async drainTasks(): Promise<void> {
    await Promise.allSettled([...this.tasks]);
  }

  /** Long-running work outlives the request that started it; reset() aborts its signal. */
  runInBackground(what: string, work: (signal: AbortSignal) => Promise<void>): void {
    const signal = this.abort.signal;
    const task = work(signal)
      .catch((error: unknown) => {
        if (!signal.aborted) this.deps.log.error(`${what} failed`, { error: describeError(error) });
      })
      .finally(() => this.tasks.delete(task));
    this.tasks.add(task);
  }

  cluster(name: string): ClusterRecord {
    const cluster = this.state.clusters.get(name);
    if (!cluster) throw resourceNotFound(`No cluster found for name: ${name}.`, { clusterName: name });
    return cluster;
  }

  nodegroup(clusterName: string, nodegroupName: string): NodegroupRecord {
    this.cluster(clusterName);
    const group = this.state.nodegroups.get(nodegroupKey(clusterName, nodegroupName));
    if (!group) throw resourceNotFound(`No node group found for name: ${nodegroupName}.`, { clusterName, nodegroupName });
    return group;
  }

  addon(clusterName: string, addonName: string): AddonRecord {
    this.cluster(clusterName);
    const addon = this.state.addons.get(addonKey(clusterName, addonName));
    if (!addon) throw resourceNotFound(`No addon: ${addonName} found in cluster: ${clusterName}`, { clusterName, addonName });
    return addon;
  }
}
