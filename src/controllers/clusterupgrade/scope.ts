// What one reconcile pass reads of AWS and of the upgraded cluster, read once (docs/adr/0011).
// Several steps of a pass look at the same cluster, node groups, Auto Scaling groups and nodes;
// without this each of them asked AWS or the API server again. A write through these ports
// forgets what it may have changed, so a read after it in the same pass asks again. What changes
// without a write of ours (an instance joining, a node going Ready) is seen on the next pass, as
// it would be if the pass had ended a moment earlier: no step waits within a pass.
//
// The values handed out are shared by every reader of the pass: callers treat them as read-only
// (their top level is frozen).
import type {
  AutoScalingGroupInfo,
  AutoScalingPort,
  CloudPorts,
  CloudPortsFactory,
  ClusterInfo,
  EksPort,
  ManagedNodeGroupInfo,
} from "../../cloud/ports.js";
import type { NodeOperations } from "../../kube/nodes.js";
import { guardNodeOperations } from "../../drain/guard.js";
import type { ClusterAccess, WorkloadReader } from "../../kube/workloads.js";
import type * as k8s from "@kubernetes/client-node";

/**
 * Promises by key; a failed read is not kept, so that a caller that handles the error may try
 * again. What is kept is frozen (its top level), so that a caller sorting a shared list or
 * assigning into a shared object fails loudly instead of changing what the next reader gets.
 */
class Memo<T extends object> {
  private readonly entries = new Map<string, Promise<T>>();

  read(key: string, load: () => Promise<T>): Promise<T> {
    const kept = this.entries.get(key);
    if (kept) return kept;
    const loading = load().then((value) => Object.freeze(value) as T);
    this.entries.set(key, loading);
    loading.catch(() => {
      if (this.entries.get(key) === loading) this.entries.delete(key);
    });
    return loading;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  forgetAll(): void {
    this.entries.clear();
  }
}

/**
 * Runs a write, then forgets what it may have changed, whether it succeeded or not: a write whose
 * answer was lost may still have been applied. Also forgotten before, so that a read that starts
 * while the write is in flight does not get an answer from before it.
 */
async function changing<T>(forget: () => void, write: () => Promise<T>): Promise<T> {
  forget();
  try {
    return await write();
  } finally {
    forget();
  }
}

function scopedEks(eks: EksPort): EksPort {
  const clusters = new Memo<ClusterInfo>();
  const nodegroupLists = new Memo<string[]>();
  const nodegroups = new Memo<ManagedNodeGroupInfo>();
  const groupKey = (clusterName: string, nodegroupName: string): string => `${clusterName}/${nodegroupName}`;
  const forgetCluster = (clusterName: string) => () => clusters.forget(clusterName);
  const forgetGroup = (clusterName: string, nodegroupName: string) => () => nodegroups.forget(groupKey(clusterName, nodegroupName));
  const forgetGroupAndList = (clusterName: string, nodegroupName: string) => () => {
    nodegroups.forget(groupKey(clusterName, nodegroupName));
    nodegroupLists.forget(clusterName);
  };
  return {
    describeCluster: (clusterName) => clusters.read(clusterName, () => eks.describeCluster(clusterName)),
    listNodegroups: (clusterName) => nodegroupLists.read(clusterName, () => eks.listNodegroups(clusterName)),
    describeNodegroup: (clusterName, nodegroupName) => nodegroups.read(groupKey(clusterName, nodegroupName), () => eks.describeNodegroup(clusterName, nodegroupName)),
    // An update seen to end has changed its cluster or node group (version, status) without a
    // write of ours in this pass; the next read must not be the one from before.
    describeUpdate: (clusterName, updateId, scope) =>
      changing(() => {
        clusters.forget(clusterName);
        if (scope?.nodegroupName) nodegroups.forget(groupKey(clusterName, scope.nodegroupName));
      }, () => eks.describeUpdate(clusterName, updateId, scope)),
    startClusterVersionUpdate: (request) => changing(forgetCluster(request.clusterName), () => eks.startClusterVersionUpdate(request)),
    startNodegroupVersionUpdate: (request) => changing(forgetGroup(request.clusterName, request.nodegroupName), () => eks.startNodegroupVersionUpdate(request)),
    startNodegroupScalingUpdate: (request) => changing(forgetGroup(request.clusterName, request.nodegroupName), () => eks.startNodegroupScalingUpdate(request)),
    startNodegroupConfigUpdate: (request) => changing(forgetGroup(request.clusterName, request.nodegroupName), () => eks.startNodegroupConfigUpdate(request)),
    createCluster: (request) => changing(forgetCluster(request.name), () => eks.createCluster(request)),
    createNodegroup: (request) => changing(forgetGroupAndList(request.clusterName, request.nodegroupName), () => eks.createNodegroup(request)),
    deleteNodegroup: (clusterName, nodegroupName) => changing(forgetGroupAndList(clusterName, nodegroupName), () => eks.deleteNodegroup(clusterName, nodegroupName)),
    deleteCluster: (clusterName) =>
      changing(() => {
        clusters.forget(clusterName);
        nodegroupLists.forget(clusterName);
        nodegroups.forgetAll();
      }, () => eks.deleteCluster(clusterName)),
    // Tags are addressed by ARN; forgetting every cluster is simpler than mapping it back to a name.
    tagCluster: (clusterArn, tags) => changing(() => clusters.forgetAll(), () => eks.tagCluster(clusterArn, tags)),
    untagCluster: (clusterArn, keys) => changing(() => clusters.forgetAll(), () => eks.untagCluster(clusterArn, keys)),
    // Not kept: add-ons, versions and insights are each read once per pass by one step, and an
    // add-on's status is what its step polls.
    listClusterVersions: () => eks.listClusterVersions(),
    listAddons: (clusterName) => eks.listAddons(clusterName),
    describeAddon: (clusterName, addonName) => eks.describeAddon(clusterName, addonName),
    listAddonVersions: (addonName, kubernetesVersion) => eks.listAddonVersions(addonName, kubernetesVersion),
    startAddonUpdate: (request) => eks.startAddonUpdate(request),
    createAddon: (request) => eks.createAddon(request),
    listInsights: (clusterName, categories) => eks.listInsights(clusterName, categories),
    describeClusterBlueprint: (clusterName) => eks.describeClusterBlueprint(clusterName),
    describeNodegroupBlueprint: (clusterName, nodegroupName) => eks.describeNodegroupBlueprint(clusterName, nodegroupName),
  };
}

function scopedAutoScaling(autoscaling: AutoScalingPort): AutoScalingPort {
  const groups = new Memo<AutoScalingGroupInfo>();
  const forgetGroup = (name: string) => () => groups.forget(name);
  return {
    describeGroup: (name) => groups.read(name, () => autoscaling.describeGroup(name)),
    setSize: (name, size) => changing(forgetGroup(name), () => autoscaling.setSize(name, size)),
    // Addressed by instance: which group it leaves is not known here.
    terminateInstance: (instanceId, decrementDesired) => changing(() => groups.forgetAll(), () => autoscaling.terminateInstance(instanceId, decrementDesired)),
    tagGroup: (name, tags) => changing(forgetGroup(name), () => autoscaling.tagGroup(name, tags)),
    untagGroup: (name, keys) => changing(forgetGroup(name), () => autoscaling.untagGroup(name, keys)),
    setLaunchTemplateVersion: (name, templateId, version) => changing(forgetGroup(name), () => autoscaling.setLaunchTemplateVersion(name, templateId, version)),
    suspendProcesses: (name, processes) => changing(forgetGroup(name), () => autoscaling.suspendProcesses(name, processes)),
    resumeProcesses: (name, processes) => changing(forgetGroup(name), () => autoscaling.resumeProcesses(name, processes)),
  };
}

function scopedPorts(ports: CloudPorts): CloudPorts {
  return { ...ports, eks: scopedEks(ports.eks), autoscaling: scopedAutoScaling(ports.autoscaling) };
}

/**
 * The node list is kept; the snapshot is not. A pass takes at most one snapshot (preflight, or
 * the budgets behind a failed managed roll), the preflight labels its nodes in place, and keeping
 * the largest read of the operator alive for the rest of the pass would cost memory for nothing.
 * Pods are not kept either: the drain reads them again to see its evictions take effect.
 */
function scopedAccess(access: ClusterAccess): ClusterAccess {
  const nodes = new Memo<k8s.V1Node[]>();
  // Every node operation of the pass goes through the guard: nodes of other kinds are never touched.
  const operations: NodeOperations = guardNodeOperations({
    listNodes: () => nodes.read("", () => access.listNodes()),
    patchNode: (nodeName, patch) => changing(() => nodes.forgetAll(), () => access.patchNode(nodeName, patch)),
    podsOnNode: (nodeName) => access.podsOnNode(nodeName),
    listBudgets: () => access.listBudgets(),
    evictPod: (namespace, name, gracePeriodSeconds) => access.evictPod(namespace, name, gracePeriodSeconds),
    deletePod: (namespace, name, gracePeriodSeconds) => access.deletePod(namespace, name, gracePeriodSeconds),
  });
  return { ...operations, snapshot: (options) => access.snapshot(options), karpenter: () => access.karpenter() };
}

/** One pass's ports and readers; a new scope per pass, so nothing is kept from one pass to the next. */
export class PassScope {
  private readonly ports = new Map<string, CloudPorts>();
  private readonly readers = new Memo<ClusterAccess>();
  private readonly greenReaders = new Memo<WorkloadReader>();

  constructor(
    private readonly factory: CloudPortsFactory,
    private readonly openReader: () => Promise<ClusterAccess>,
    private readonly openGreenReader: () => Promise<WorkloadReader>,
  ) {}

  /** The ports of a region, the same object for every call of the pass, so that all share what was read. */
  cloudIn(region: string): CloudPorts {
    let ports = this.ports.get(region);
    if (!ports) {
      ports = scopedPorts(this.factory(region));
      this.ports.set(region, ports);
    }
    return ports;
  }

  /** The upgraded cluster's reader: its kubeconfig Secret is read once per pass, not per call. */
  workloads(): Promise<ClusterAccess> {
    return this.readers.read("", async () => scopedAccess(await this.openReader()));
  }

  greenWorkloads(): Promise<WorkloadReader> {
    return this.greenReaders.read("", () => this.openGreenReader());
  }
}
