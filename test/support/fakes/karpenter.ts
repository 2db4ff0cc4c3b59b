// Karpenter's objects in memory for unit tests of the drift roll. `installed: false` plays a
// cluster without the NodePool CRD. Writes check resourceVersion as the API server does and bump it.
import type { KarpenterApi } from "../../../src/karpenter/reader.js";
import type { AmiSelectorTerm, EC2NodeClass, NodeClaim, NodePool } from "../../../src/karpenter/types.js";
import { ConflictError } from "../../../src/util/errors.js";

export class FakeKarpenter implements KarpenterApi {
  installed = true;
  nodePools: NodePool[] = [];
  nodeClaims: NodeClaim[] = [];
  ec2NodeClasses: EC2NodeClass[] = [];
  readonly writes: string[] = [];

  listNodePools(): Promise<NodePool[] | undefined> {
    return Promise.resolve(this.installed ? structuredClone(this.nodePools) : undefined);
  }

  listNodeClaims(): Promise<NodeClaim[]> {
    return Promise.resolve(this.installed ? structuredClone(this.nodeClaims) : []);
  }

  getEC2NodeClass(name: string): Promise<EC2NodeClass | undefined> {
    const found = this.ec2NodeClasses.find((nodeClass) => nodeClass.metadata.name === name);
    return Promise.resolve(found ? structuredClone(found) : undefined);
  }

  private checkVersion(kind: string, metadata: { name: string; resourceVersion?: string }, resourceVersion: string | undefined): void {
    if (resourceVersion !== undefined && metadata.resourceVersion !== resourceVersion) {
      throw new ConflictError(`${kind} ${metadata.name} was changed (resourceVersion ${metadata.resourceVersion}, not ${resourceVersion})`);
    }
    metadata.resourceVersion = String(Number(metadata.resourceVersion ?? "0") + 1);
  }

  setNodePoolTemplateAnnotation(name: string, key: string, value: string | null, resourceVersion: string | undefined): Promise<void> {
    const pool = this.nodePools.find((candidate) => candidate.metadata.name === name);
    if (!pool) return Promise.reject(new Error(`no NodePool ${name}`));
    this.checkVersion("NodePool", pool.metadata, resourceVersion);
    pool.spec.template.metadata ??= {};
    const annotations = { ...(pool.spec.template.metadata.annotations ?? {}) };
    if (value === null) delete annotations[key];
    else annotations[key] = value;
    pool.spec.template.metadata.annotations = annotations;
    this.writes.push(`NodePool/${name} ${key}=${value}`);
    return Promise.resolve();
  }

  setAmiSelectorTerms(name: string, terms: AmiSelectorTerm[], resourceVersion: string | undefined): Promise<void> {
    const nodeClass = this.ec2NodeClasses.find((candidate) => candidate.metadata.name === name);
    if (!nodeClass) return Promise.reject(new Error(`no EC2NodeClass ${name}`));
    this.checkVersion("EC2NodeClass", nodeClass.metadata, resourceVersion);
    nodeClass.spec.amiSelectorTerms = structuredClone(terms);
    this.writes.push(`EC2NodeClass/${name} ${JSON.stringify(terms)}`);
    return Promise.resolve();
  }
}
