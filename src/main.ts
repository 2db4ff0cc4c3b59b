// Composition root: configuration, logger, clients, the ClusterUpgrade controller under leader
// election, the operations HTTP server, and signal handling. Nothing else knows the concrete
// AWS adapters.
import { hostname } from "node:os";
import { pathToFileURL } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { GROUP, PHASES, PLURAL, VERSION, type ClusterUpgrade } from "./api/v1alpha1/types.js";
import { awsCloudPortsFactory } from "./cloud/aws/index.js";
import { setAwsCallErrorObserver, setAwsRetryLogger } from "./cloud/aws/call.js";
import { awsCallTimeoutMs, awsMaxAttempts, awsRequestTimeoutMs, awsRetryMode } from "./cloud/aws/client-config.js";
import type { CloudPortsFactory } from "./cloud/ports.js";
import { ClusterUpgradeController } from "./controllers/clusterupgrade/controller.js";
import type { ControllerTimings } from "./controllers/clusterupgrade/context.js";
import { eventSink, KubeClusterUpgradeStore } from "./controllers/clusterupgrade/store.js";
import { EventRecorder, kubeEventsClient } from "./kube/events.js";
import { eksClusterAccess } from "./kube/eks-access.js";
import { workloadReaderFor, type ClusterAccess } from "./kube/workloads.js";
import { slimBudget } from "./kube/slim.js";
import { listCompression, listEncoding } from "./kube/raw-list.js";
import { eksTokenSource } from "./cloud/aws/eks-token.js";
import { notifierFor } from "./notify/resolve.js";
import { outboundPolicyFromEnv, type OutboundPolicy } from "./net/outbound.js";
import { startOperationsServer, type OperationsServer } from "./observability/http.js";
import { OperatorMetrics } from "./observability/metrics.js";
import { UpgradeMetrics } from "./observability/upgrade-metrics.js";
import { Informer, kubeWatchFunction, splitObjectKey, type ObjectWithMetadata } from "./runtime/informer.js";
import { kubeLeaseClient } from "./runtime/leader-election.js";
import { CancellableKubeConfig } from "./kube/cancellable-kubeconfig.js";
import { DEFAULT_RECONCILE_TIMEOUT_MS, Manager, secondaryWatch, specOrMetadataChanged } from "./runtime/manager.js";
import { countSetting, kubeRequestTimeoutMs, timeoutSetting } from "./runtime/cancellation.js";
import { configMapSource, customResourceSource, podDisruptionBudgetSource } from "./runtime/sources.js";
import { realClock, type Clock } from "./util/clock.js";
import { describeError } from "./util/errors.js";
import { createLogger, type Logger } from "./util/logger.js";
import { operatorIdentityProblem } from "./claims/holder.js";

/**
 * The ConfigMap that pauses every ClusterUpgrade at once when its data.stop is "true" (incidents),
 * unless STOP_SWITCH_CONFIGMAP names another (the Helm chart does, from its release name).
 */
export const GLOBAL_STOP_CONFIGMAP = "eks-upgrade-operator-stop";
export const LEASE_NAME = "eks-upgrade-operator";

export interface OperatorConfig {
  namespace: string;
  identity: string;
  watchNamespace?: string;
  defaultRegion: string;
  httpPort: number;
  leaderElection: boolean;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** RECONCILE_TIMEOUT_SECONDS: a reconcile still running after this long is cancelled and retried. */
  reconcileTimeoutMs: number;
  /** WORKERS: ClusterUpgrades reconciled at once (never one object by two workers). */
  workers: number;
  timings: Partial<ControllerTimings>;
  /** OPERATOR_IDENTITY (or CLUSTER_ID): the management cluster named in every claim; the kube-system namespace UID when unset. */
  operatorIdentity?: string;
  /** What URLs from specs and Secrets may point at (OUTBOUND_ALLOW_HTTP, OUTBOUND_DENY_PRIVATE, OUTBOUND_ALLOWLIST). */
  outbound: OutboundPolicy;
  /** STOP_SWITCH_CONFIGMAP: the stop-switch ConfigMap in the operator's namespace. */
  stopSwitchName: string;
}

/** A ConfigMap name is a DNS subdomain; anything else could never match and the switch would be dead. */
function configMapName(variable: string, value: string | undefined, fallback: string): string {
  const name = value?.trim() || fallback;
  if (name.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name)) {
    throw new Error(`${variable} "${name}" is not a valid ConfigMap name: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`);
  }
  return name;
}

function seconds(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`expected a number of seconds, got "${value}"`);
  return parsed * 1000;
}

/** Default WORKERS: enough that one upgrade waiting on a slow call does not hold the others back. */
export const DEFAULT_WORKERS = 4;


export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const controlPlanePollMs = seconds(env.CONTROL_PLANE_POLL_SECONDS);
  const updatePollMs = seconds(env.UPDATE_POLL_SECONDS);
  const failedUpdateBackoffMs = seconds(env.FAILED_UPDATE_BACKOFF_SECONDS);
  const idleRecheckMs = seconds(env.IDLE_RECHECK_SECONDS);
  const leaseDurationMs = seconds(env.LEASE_DURATION_SECONDS);
  const renewDeadlineMs = seconds(env.LEASE_RENEW_DEADLINE_SECONDS);
  const retryPeriodMs = seconds(env.LEASE_RETRY_PERIOD_SECONDS);
  const claimSettleMs = seconds(env.CLAIM_SETTLE_SECONDS);
  // Read again by every AWS client; checked here so a bad value stops startup, not the first call.
  awsMaxAttempts(env);
  awsRetryMode(env);
  const awsCallMs = awsCallTimeoutMs(env);
  const awsRequestMs = awsRequestTimeoutMs(env);
  if (awsRequestMs > awsCallMs) {
    throw new Error(`AWS_REQUEST_TIMEOUT_SECONDS (${awsRequestMs / 1000}) must not exceed AWS_CALL_TIMEOUT_SECONDS (${awsCallMs / 1000}): one attempt cannot take longer than the whole call`);
  }
  kubeRequestTimeoutMs(env);
  listCompression(env);
  listEncoding(env);
  const reconcileTimeoutMs = timeoutSetting("RECONCILE_TIMEOUT_SECONDS", env.RECONCILE_TIMEOUT_SECONDS, DEFAULT_RECONCILE_TIMEOUT_MS, 24 * 3600);
  if (reconcileTimeoutMs < awsCallMs) {
    throw new Error(`RECONCILE_TIMEOUT_SECONDS (${reconcileTimeoutMs / 1000}) must be at least AWS_CALL_TIMEOUT_SECONDS (${awsCallMs / 1000}): a reconcile must have time for one whole AWS call`);
  }
  const workers = countSetting("WORKERS", env.WORKERS, DEFAULT_WORKERS, 1, 64, "ClusterUpgrades reconciled at once");
  const operatorIdentity = env.OPERATOR_IDENTITY || env.CLUSTER_ID || undefined;
  const identityProblem = operatorIdentity === undefined ? undefined : operatorIdentityProblem(operatorIdentity);
  if (identityProblem) throw new Error(identityProblem);
  return {
    namespace: env.POD_NAMESPACE ?? "default",
    identity: `${env.POD_NAME ?? hostname()}-${process.pid}`,
    ...(env.WATCH_NAMESPACE ? { watchNamespace: env.WATCH_NAMESPACE } : {}),
    defaultRegion: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    httpPort: Number(env.HTTP_PORT ?? 8080),
    leaderElection: env.LEADER_ELECTION !== "false",
    reconcileTimeoutMs,
    workers,
    outbound: outboundPolicyFromEnv(env),
    stopSwitchName: configMapName("STOP_SWITCH_CONFIGMAP", env.STOP_SWITCH_CONFIGMAP, GLOBAL_STOP_CONFIGMAP),
    ...(leaseDurationMs !== undefined ? { leaseDurationMs } : {}),
    ...(renewDeadlineMs !== undefined ? { renewDeadlineMs } : {}),
    ...(retryPeriodMs !== undefined ? { retryPeriodMs } : {}),
    timings: {
      ...(controlPlanePollMs !== undefined ? { controlPlanePollMs } : {}),
      ...(updatePollMs !== undefined ? { updatePollMs } : {}),
      ...(failedUpdateBackoffMs !== undefined ? { failedUpdateBackoffMs } : {}),
      ...(idleRecheckMs !== undefined ? { idleRecheckMs } : {}),
      ...(claimSettleMs !== undefined ? { claimSettleMs } : {}),
    },
    ...(operatorIdentity ? { operatorIdentity } : {}),
  };
}

export interface RunningOperator {
  manager: Manager<ClusterUpgrade & ObjectWithMetadata>;
  server: OperationsServer;
  /** Graceful stop: finish reconciles, release the Lease, close the HTTP server. */
  stop(): Promise<void>;
}

export interface OperatorDependencies {
  kubeConfig: k8s.KubeConfig;
  cloud: CloudPortsFactory;
  logger: Logger;
  clock?: Clock;
}

/**
 * The management cluster's identity for claims: OPERATOR_IDENTITY when set, else the UID of the
 * kube-system namespace, which is unique per cluster and survives operator restarts. Read once.
 */
export async function resolveOperatorIdentity(config: OperatorConfig, kubeConfig: k8s.KubeConfig, logger: Logger): Promise<string | undefined> {
  if (config.operatorIdentity) return config.operatorIdentity;
  try {
    const namespace = await kubeConfig.makeApiClient(k8s.CoreV1Api).readNamespace({ name: "kube-system" });
    if (namespace.metadata?.uid) return namespace.metadata.uid;
  } catch (error) {
    logger.warn("cannot read the kube-system namespace's UID for the claim identity; set OPERATOR_IDENTITY (or grant get on namespace kube-system). Until then, claims left by vanished upgrades are broken only by the eksupgrade.io/break-claim annotation", { error: describeError(error) });
  }
  return undefined;
}

export async function startOperator(config: OperatorConfig, dependencies: OperatorDependencies): Promise<RunningOperator> {
  const { kubeConfig, logger } = dependencies;
  const operatorIdentity = await resolveOperatorIdentity(config, kubeConfig, logger);
  const clock = dependencies.clock ?? realClock;
  const metrics = new OperatorMetrics();
  const upgradeMetrics = new UpgradeMetrics(metrics);
  setAwsCallErrorObserver((errorClass) => metrics.recordAwsCallError(errorClass));
  const watch = kubeWatchFunction(kubeConfig);
  const primary = new Informer<ClusterUpgrade & ObjectWithMetadata>(
    customResourceSource(kubeConfig, { group: GROUP, version: VERSION, plural: PLURAL }, config.watchNamespace ? { namespace: config.watchNamespace } : {}),
    watch,
    { logger, clock },
  );
  const stopSwitch = new Informer<k8s.V1ConfigMap & ObjectWithMetadata>(
    configMapSource(kubeConfig, { namespace: config.namespace, fieldSelector: `metadata.name=${config.stopSwitchName}` }),
    watch,
    { logger, clock },
  );
  // Budgets pace the self-managed drain: a refused eviction is tried again the moment a budget
  // allows one more disruption, not only on the drain's retry timer.
  // The drain reads its budgets from this cache too (WatchedBudgetsReader), kept as slim.ts keeps them.
  const budgets = new Informer<k8s.V1PodDisruptionBudget & ObjectWithMetadata>(podDisruptionBudgetSource(kubeConfig, {}, slimBudget), watch, { logger, clock });
  const draining = (): string[] => primary.keys().filter((key) => (primary.getByKey(key)?.status?.nodeGroups ?? []).some((group) => (group.nodes ?? []).length > 0));
  const globallyPaused = (): boolean => stopSwitch.get(config.namespace, config.stopSwitchName)?.data?.stop === "true";
  const phases = new Map<string, string>();
  const greenAccess = new Map<string, { endpoint: string; access: ClusterAccess }>();
  // Green's workloads: through the kubeconfig Secret when one is named; a green the operator
  // created itself through an EKS token (EKS makes a cluster's creator its administrator);
  // otherwise the operator's own API server, for an operator that runs in green.
  const greenReader = async (upgrade: ClusterUpgrade): Promise<ClusterAccess> => {
    const blueGreen = upgrade.spec.blueGreen;
    if (!blueGreen?.createGreen || blueGreen.greenCluster.kubeconfigSecretRef) {
      return workloadReaderFor(kubeConfig, upgrade.metadata.namespace, blueGreen?.greenCluster.kubeconfigSecretRef, "spec.blueGreen.greenCluster.kubeconfigSecretRef");
    }
    const region = blueGreen.greenCluster.region ?? upgrade.spec.cluster.region ?? config.defaultRegion;
    const name = blueGreen.greenCluster.name;
    const cluster = await dependencies.cloud(region).eks.describeCluster(name);
    const key = `${region}/${name}`;
    const known = greenAccess.get(key);
    if (known && known.endpoint === cluster.endpoint) return known.access;
    const access = eksClusterAccess({ name, endpoint: cluster.endpoint ?? "", certificateAuthorityData: cluster.certificateAuthorityData ?? "" }, eksTokenSource({ clusterName: name, region }));
    greenAccess.set(key, { endpoint: cluster.endpoint ?? "", access });
    return access;
  };
  const controller = new ClusterUpgradeController({
    store: new KubeClusterUpgradeStore(kubeConfig),
    events: eventSink(new EventRecorder({ client: kubeEventsClient(kubeConfig), instance: config.identity, logger, clock })),
    cloud: dependencies.cloud,
    workloads: (upgrade) => workloadReaderFor(kubeConfig, upgrade.metadata.namespace, upgrade.spec.cluster.kubeconfigSecretRef, undefined, budgets),
    greenWorkloads: (upgrade) => greenReader(upgrade),
    clock,
    logger,
    defaultRegion: config.defaultRegion,
    timings: config.timings,
    globallyPaused,
    stopSwitchName: config.stopSwitchName,
    ...(operatorIdentity ? { operatorIdentity } : {}),
    notifierFor: (upgrade) => notifierFor(kubeConfig, upgrade, logger, config.outbound),
    outbound: config.outbound,
    onPhase: (key, phase, upgrade, status) => {
      phases.set(key, phase);
      upgradeMetrics.observe(upgrade, status, clock.now());
      const counts: Record<string, number> = {};
      for (const value of phases.values()) counts[value] = (counts[value] ?? 0) + 1;
      metrics.setUpgradesByPhase(counts, PHASES);
    },
  });
  const manager = new Manager<ClusterUpgrade & ObjectWithMetadata>({
    name: "clusterupgrade",
    primary,
    // Flipping the global stop switch must reach every ClusterUpgrade at once.
    secondary: [
      { informer: stopSwitch, mapToKeys: () => primary.keys() },
      secondaryWatch(budgets, draining, (previous, current) => (current.status?.disruptionsAllowed ?? 0) > (previous.status?.disruptionsAllowed ?? 0)),
    ],
    // The controller's own status writes must not wake it: it requeues itself when it needs to.
    primaryUpdateFilter: specOrMetadataChanged,
    reconcile: async (key) => {
      const { namespace, name } = splitObjectKey(key);
      if (!primary.getByKey(key)) {
        phases.delete(key);
        upgradeMetrics.forget(key);
      }
      return controller.reconcile(namespace ?? "", name);
    },
    leaderElection: config.leaderElection
      ? {
          namespace: config.namespace,
          name: LEASE_NAME,
          identity: config.identity,
          client: kubeLeaseClient(kubeConfig),
          ...(config.leaseDurationMs !== undefined ? { leaseDurationMs: config.leaseDurationMs } : {}),
          ...(config.renewDeadlineMs !== undefined ? { renewDeadlineMs: config.renewDeadlineMs } : {}),
          ...(config.retryPeriodMs !== undefined ? { retryPeriodMs: config.retryPeriodMs } : {}),
        }
      : false,
    logKeyField: "clusterUpgrade",
    // Each ClusterUpgrade is handled by one worker at a time; several let one upgrade's slow or
    // hung call (until its timeout) leave the others running.
    concurrency: config.workers,
    reconcileTimeoutMs: config.reconcileTimeoutMs,
    clock,
    logger,
    metrics,
  });
  const server = await startOperationsServer({
    port: config.httpPort,
    readiness: () => manager.readiness(),
    liveness: () => manager.liveness(),
    metrics: async () => ({ body: await metrics.render(), contentType: metrics.contentType }),
    logger,
  });
  manager.start();
  logger.info("operator started", { identity: config.identity, claimIdentity: operatorIdentity ?? "(unidentified)", namespace: config.namespace, watchNamespace: config.watchNamespace ?? "(all)", httpPort: server.port });
  return {
    manager,
    server,
    async stop() {
      await manager.shutdown();
      await server.close();
    },
  };
}

async function main(): Promise<void> {
  const logger = createLogger();
  setAwsRetryLogger(logger);
  const config = configFromEnvironment();
  const kubeConfig = new CancellableKubeConfig();
  kubeConfig.loadFromDefault();
  const operator = await startOperator(config, { kubeConfig, cloud: awsCloudPortsFactory(), logger });
  operator.manager.stopOnSignals();
  const reason = await operator.manager.done;
  await operator.server.close();
  logger.info("operator stopped", { reason });
  // Losing the Lease involuntarily means another replica may be working: exit non-zero so the
  // kubelet restarts this one as a standby.
  process.exitCode = reason === "lost-leadership" ? 1 : 0;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  main().catch((error: unknown) => {
    console.error(JSON.stringify({ level: "error", message: "operator failed to start", error: describeError(error) }));
    process.exit(1);
  });
}
