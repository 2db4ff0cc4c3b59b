// Karpenter's objects through the CustomObjects API. A cluster without Karpenter has no NodePool
// CRD: the list then answers 404, which reads as "no Karpenter" rather than as an error, so every
// upgrade can look for NodePools without knowing whether Karpenter is installed.
import * as k8s from "@kubernetes/client-node";
import { classifyKubeError } from "../util/classify.js";
import { isNotFound } from "../util/errors.js";
import {
  EC2_NODE_CLASS_GROUP,
  EC2_NODE_CLASS_VERSION,
  KARPENTER_GROUP,
  KARPENTER_VERSION,
  type AmiSelectorTerm,
  type EC2NodeClass,
  type NodeClaim,
  type NodePool,
} from "./types.js";

export interface KarpenterApi {
  /** Undefined when the cluster does not serve NodePools (Karpenter is not installed). */
  listNodePools(): Promise<NodePool[] | undefined>;
  listNodeClaims(): Promise<NodeClaim[]>;
  /** Undefined when the EC2NodeClass (or its CRD) does not exist. */
  getEC2NodeClass(name: string): Promise<EC2NodeClass | undefined>;
  /**
   * Sets (or with null removes) one annotation of a NodePool's template. resourceVersion makes the
   * write fail with a conflict when the NodePool changed since it was read.
   */
  setNodePoolTemplateAnnotation(name: string, key: string, value: string | null, resourceVersion: string | undefined): Promise<void>;
  /** Replaces an EC2NodeClass's amiSelectorTerms, under the same optimistic lock. */
  setAmiSelectorTerms(name: string, terms: AmiSelectorTerm[], resourceVersion: string | undefined): Promise<void>;
}

/** What the controller's cluster access offers for Karpenter. */
export interface KarpenterAccess {
  karpenter(): KarpenterApi;
}

const MERGE_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
const nodePools = { group: KARPENTER_GROUP, version: KARPENTER_VERSION, plural: "nodepools" };
const nodeClaims = { group: KARPENTER_GROUP, version: KARPENTER_VERSION, plural: "nodeclaims" };
const ec2NodeClasses = { group: EC2_NODE_CLASS_GROUP, version: EC2_NODE_CLASS_VERSION, plural: "ec2nodeclasses" };

interface ListAnswer<T> {
  items?: T[];
  metadata?: { continue?: string };
}

export class KubeKarpenterApi implements KarpenterApi {
  private readonly custom: k8s.CustomObjectsApi;

  constructor(kubeConfig: k8s.KubeConfig) {
    this.custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  }

  private async listAll<T>(resource: typeof nodePools): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    do {
      const page = (await this.custom.listClusterCustomObject({ ...resource, limit: 500, ...(token ? { _continue: token } : {}) })) as ListAnswer<T>;
      items.push(...(page.items ?? []));
      token = page.metadata?.continue || undefined;
    } while (token);
    return items;
  }

  async listNodePools(): Promise<NodePool[] | undefined> {
    try {
      return await this.listAll<NodePool>(nodePools);
    } catch (error) {
      const typed = classifyKubeError(error, "listing Karpenter NodePools");
      if (isNotFound(typed)) return undefined;
      throw typed;
    }
  }

  async listNodeClaims(): Promise<NodeClaim[]> {
    try {
      return await this.listAll<NodeClaim>(nodeClaims);
    } catch (error) {
      const typed = classifyKubeError(error, "listing Karpenter NodeClaims");
      if (isNotFound(typed)) return [];
      throw typed;
    }
  }

  async getEC2NodeClass(name: string): Promise<EC2NodeClass | undefined> {
    try {
      return (await this.custom.getClusterCustomObject({ ...ec2NodeClasses, name })) as EC2NodeClass;
    } catch (error) {
      const typed = classifyKubeError(error, `reading EC2NodeClass ${name}`);
      if (isNotFound(typed)) return undefined;
      throw typed;
    }
  }

  async setNodePoolTemplateAnnotation(name: string, key: string, value: string | null, resourceVersion: string | undefined): Promise<void> {
    const body = { metadata: resourceVersion ? { resourceVersion } : {}, spec: { template: { metadata: { annotations: { [key]: value } } } } };
    try {
      await this.custom.patchClusterCustomObject({ ...nodePools, name, body }, MERGE_PATCH);
    } catch (error) {
      throw classifyKubeError(error, `setting annotation ${key} of NodePool ${name}'s template`);
    }
  }

  async setAmiSelectorTerms(name: string, terms: AmiSelectorTerm[], resourceVersion: string | undefined): Promise<void> {
    // A merge patch replaces a list whole, which is what is meant: the terms are one setting.
    const body = { metadata: resourceVersion ? { resourceVersion } : {}, spec: { amiSelectorTerms: terms } };
    try {
      await this.custom.patchClusterCustomObject({ ...ec2NodeClasses, name, body }, MERGE_PATCH);
    } catch (error) {
      throw classifyKubeError(error, `setting amiSelectorTerms of EC2NodeClass ${name}`);
    }
  }
}
