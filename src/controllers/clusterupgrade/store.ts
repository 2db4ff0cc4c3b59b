// The API-server-backed ClusterUpgradeStore and event sink the controller uses in production.
import type * as k8s from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION, type ClusterUpgrade, type ClusterUpgradeStatus } from "../../api/v1alpha1/types.js";
import type { EventRecorder } from "../../kube/events.js";
import { CustomResourceClient, type CustomObject } from "../../kube/patch.js";
import type { ClusterUpgradeStore, EventSink } from "./controller.js";

type StoredClusterUpgrade = ClusterUpgrade & CustomObject<ClusterUpgradeStatus>;

export class KubeClusterUpgradeStore implements ClusterUpgradeStore {
  private readonly client: CustomResourceClient<StoredClusterUpgrade>;

  constructor(kubeConfig: k8s.KubeConfig) {
    this.client = CustomResourceClient.fromKubeConfig<StoredClusterUpgrade>(kubeConfig, { group: GROUP, version: VERSION, plural: PLURAL });
  }

  /** Read from the API server, not a cache: a pass must start from the latest resourceVersion. */
  get(namespace: string, name: string): Promise<ClusterUpgrade | undefined> {
    return this.client.get(namespace, name);
  }

  async updateStatus(upgrade: ClusterUpgrade, status: ClusterUpgradeStatus): Promise<void> {
    await this.client.patchStatus(upgrade, status);
  }

  setFinalizers(upgrade: ClusterUpgrade, finalizers: string[]): Promise<ClusterUpgrade> {
    return this.client.setFinalizers(upgrade, finalizers);
  }
}

export function eventSink(recorder: EventRecorder): EventSink {
  return {
    record: (upgrade, type, reason, message) => recorder.record(upgrade, type, reason, message),
  };
}
