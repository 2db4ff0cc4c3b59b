// An in-memory ClusterUpgrade store with the API server's optimistic concurrency: every write
// bumps resourceVersion and a write carrying a stale one fails with a ConflictError.
import type { ClusterUpgrade, ClusterUpgradeStatus } from "../../../src/api/v1alpha1/types.js";
import type { ClusterUpgradeStore, EventSink } from "../../../src/controllers/clusterupgrade/controller.js";
import { ConflictError } from "../../../src/util/errors.js";

export class MemoryStore implements ClusterUpgradeStore {
  private readonly objects = new Map<string, ClusterUpgrade>();
  private version = 1;
  statusWrites = 0;

  put(upgrade: ClusterUpgrade): ClusterUpgrade {
    const stored = structuredClone(upgrade);
    stored.metadata.resourceVersion = String(++this.version);
    stored.metadata.generation ??= 1;
    stored.metadata.uid ??= `uid-${stored.metadata.name}`;
    this.objects.set(`${stored.metadata.namespace}/${stored.metadata.name}`, stored);
    return structuredClone(stored);
  }

  /** Changes the spec as `kubectl apply` would: generation goes up. */
  editSpec(namespace: string, name: string, edit: (upgrade: ClusterUpgrade) => void): void {
    const current = this.objects.get(`${namespace}/${name}`)!;
    edit(current);
    current.metadata.generation = (current.metadata.generation ?? 1) + 1;
    current.metadata.resourceVersion = String(++this.version);
  }

  /** `kubectl delete`: the object stays, marked for deletion, until its finalizers are gone. */
  markDeleted(namespace: string, name: string, at: string): void {
    const current = this.objects.get(`${namespace}/${name}`)!;
    current.metadata.deletionTimestamp = at;
    current.metadata.resourceVersion = String(++this.version);
  }

  exists(namespace: string, name: string): boolean {
    return this.objects.has(`${namespace}/${name}`);
  }

  current(namespace: string, name: string): ClusterUpgrade {
    return structuredClone(this.objects.get(`${namespace}/${name}`)!);
  }

  get(namespace: string, name: string): Promise<ClusterUpgrade | undefined> {
    const found = this.objects.get(`${namespace}/${name}`);
    return Promise.resolve(found ? structuredClone(found) : undefined);
  }

  private checkFresh(upgrade: ClusterUpgrade): ClusterUpgrade {
    const stored = this.objects.get(`${upgrade.metadata.namespace}/${upgrade.metadata.name}`);
    if (!stored || stored.metadata.resourceVersion !== upgrade.metadata.resourceVersion) {
      throw new ConflictError(`the object has been modified; please apply your changes to the latest version`);
    }
    return stored;
  }

  async updateStatus(upgrade: ClusterUpgrade, status: ClusterUpgradeStatus): Promise<void> {
    await Promise.resolve();
    const stored = this.checkFresh(upgrade);
    stored.status = structuredClone(status);
    stored.metadata.resourceVersion = String(++this.version);
    this.statusWrites++;
  }

  async setFinalizers(upgrade: ClusterUpgrade, finalizers: string[]): Promise<ClusterUpgrade> {
    await Promise.resolve();
    const stored = this.checkFresh(upgrade);
    stored.metadata.finalizers = [...finalizers];
    stored.metadata.resourceVersion = String(++this.version);
    if (stored.metadata.deletionTimestamp && finalizers.length === 0) this.objects.delete(`${upgrade.metadata.namespace}/${upgrade.metadata.name}`);
    return structuredClone(stored);
  }
}

export class RecordingEvents implements EventSink {
  readonly events: { reason: string; type: string; message: string }[] = [];

  record(_upgrade: ClusterUpgrade, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    this.events.push({ type, reason, message });
    return Promise.resolve();
  }

  reasons(): string[] {
    return this.events.map((event) => event.reason);
  }

  messages(reason: string): string[] {
    return this.events.filter((event) => event.reason === reason).map((event) => event.message);
  }
}
