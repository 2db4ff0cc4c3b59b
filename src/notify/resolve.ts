// Finds the webhook a ClusterUpgrade names: spec.notifications.webhookUrl, or the URL kept in a
// Secret (webhookSecretRef) for webhooks whose URL is itself the credential, as Slack's are.
import * as k8s from "@kubernetes/client-node";
import type { ClusterUpgrade } from "../api/v1alpha1/types.js";
import { classifyKubeError } from "../util/classify.js";
import type { Logger } from "../util/logger.js";
import { DEFAULT_OUTBOUND_POLICY, type OutboundPolicy } from "../net/outbound.js";
import { WebhookNotifier, type Notifier } from "./webhook.js";

export async function notifierFor(kubeConfig: k8s.KubeConfig, upgrade: ClusterUpgrade, logger: Logger, policy: OutboundPolicy = DEFAULT_OUTBOUND_POLICY): Promise<Notifier | undefined> {
  const settings = upgrade.spec.notifications;
  if (settings?.webhookUrl) return new WebhookNotifier(settings.webhookUrl, logger, policy);
  const ref = settings?.webhookSecretRef;
  if (!ref) return undefined;
  const namespace = upgrade.metadata.namespace;
  let secret: k8s.V1Secret;
  try {
    secret = await kubeConfig.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ namespace, name: ref.name });
  } catch (error) {
    throw classifyKubeError(error, `reading Secret ${namespace}/${ref.name} named by spec.notifications.webhookSecretRef`);
  }
  const encoded = secret.data?.[ref.key];
  if (!encoded) throw new Error(`Secret ${namespace}/${ref.name} has no key "${ref.key}" (spec.notifications.webhookSecretRef.key)`);
  return new WebhookNotifier(Buffer.from(encoded, "base64").toString("utf8").trim(), logger, policy, `Secret ${namespace}/${ref.name} key ${ref.key} (spec.notifications.webhookSecretRef)`);
}
