/**
 * Entry point of the EKS emulator process, started by the sandbox runner with:
 *   EKS_EMULATOR_PORT    port to listen on
 *   EKS_EMULATOR_HOST    address to listen on (default 127.0.0.1)
 *   AWS_ENDPOINT_URL     moto's URL, where EC2, Auto Scaling and the rest live
 *   AWS_REGION           region reported in ARNs and node labels
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY  the sandbox's key pair; EKS tokens signed with it are accepted
 *   KUBECONFIG           the sandbox kube-apiserver; without it no node mirror and no node group rolls
 *   SANDBOX_TIME_FACTOR  scale of every EKS duration (0.01: ten minutes become six seconds)
 *   NODE_MIRROR_INTERVAL_MS  optional, how often Nodes are reconciled with instances (default 1000)
 *   SANDBOX_NODE_BOOT_SECONDS optional, EKS seconds from an instance's launch to its Ready Node
 *                        (default DEFAULT_NODE_BOOT_SECONDS), scaled like every EKS time
 */
import { createClock, parseTimeFactor } from "./clock.js";
import { MotoCloud } from "./cloud.js";
import { EksEmulator } from "./emulator.js";
import { DEFAULT_NODE_BOOT_SECONDS } from "./facts.js";
import { KubeAccess } from "./kube.js";
import { createLogger } from "./log.js";
import { NodeMirror } from "./node-mirror.js";
import { NodegroupRoller } from "./nodegroup-roller.js";
import { startServer } from "./server.js";
import { EmulatorState } from "./state.js";
import { TokenReviewer } from "./token-review.js";

const DEFAULT_MIRROR_INTERVAL_MS = 1000;

function parseBootSeconds(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_NODE_BOOT_SECONDS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600) throw new Error(`SANDBOX_NODE_BOOT_SECONDS must be a number of seconds between 0 and 3600, got "${raw}"`);
  return seconds;
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

async function main(): Promise<void> {
  const log = createLogger("eks-emulator");
  const port = Number(requireEnv("EKS_EMULATOR_PORT"));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`EKS_EMULATOR_PORT is not a port: ${port}`);
  const region = process.env.AWS_REGION ?? "us-west-2";
  const cloud = new MotoCloud({ endpoint: requireEnv("AWS_ENDPOINT_URL"), region });
  const clock = createClock(parseTimeFactor(process.env.SANDBOX_TIME_FACTOR));
  const kubeconfig = process.env.KUBECONFIG;
  const kube = kubeconfig ? new KubeAccess(kubeconfig) : undefined;
  const state = new EmulatorState();
  const emulator = new EksEmulator({
    state,
    cloud,
    clock,
    region,
    log,
    roller: kube ? new NodegroupRoller(cloud, kube, clock, log) : undefined,
    apiServer: kube?.serverInfo(),
  });
  const reviewer = new TokenReviewer({
    clusterNames: () => state.clusters.keys(),
    secretKeys: new Map([[process.env.AWS_ACCESS_KEY_ID ?? "testing", process.env.AWS_SECRET_ACCESS_KEY ?? "testing"]]),
    stsEndpoint: requireEnv("AWS_ENDPOINT_URL"),
  });
  const bootSeconds = parseBootSeconds(process.env.SANDBOX_NODE_BOOT_SECONDS);
  const mirror = kube ? new NodeMirror(state, cloud, kube, region, log, clock.scaledMs(bootSeconds)) : undefined;

  // Passes never overlap: a sync request waits for the pass in flight, then runs its own.
  let pass: Promise<unknown> = Promise.resolve();
  const runPass = async (): Promise<Record<string, unknown>> => {
    if (!mirror) return {};
    const next = pass.catch(() => undefined).then(() => mirror.reconcileOnce());
    pass = next;
    const result = await next;
    return { created: result.created, deleted: result.deleted, reclaimedInterfaces: result.reclaimedInterfaces };
  };

  const host = process.env.EKS_EMULATOR_HOST ?? "127.0.0.1";
  // What tests check to see that a cluster was read with an EKS token.
  const reviews: Record<string, unknown>[] = [];
  const server = await startServer(emulator, port, log, {
    // A pass already running may still create Nodes for the state just cleared; the caller deletes
    // Nodes after the reset, so the reset only answers once that pass is over.
    onReset: async () => {
      await pass.catch(() => undefined);
      mirror?.reset();
      reviews.length = 0;
    },
    syncNodes: mirror ? runPass : undefined,
    authenticate: async (review) => {
      const answer = await reviewer.review(review);
      const status = answer.status as { authenticated: boolean; error?: string; user?: { username: string } };
      log.info("token review", { authenticated: status.authenticated, user: status.user?.username, reason: status.error });
      reviews.push({ at: new Date().toISOString(), authenticated: status.authenticated, ...(status.user ? { user: status.user.username } : {}), ...(status.error ? { reason: status.error } : {}) });
      return answer;
    },
    tokenReviews: () => reviews,
  }, host);
  log.info("listening", { port, region, nodeMirror: mirror !== undefined, timeFactor: clock.scaledMs(1) / 1000, nodeBootMs: clock.scaledMs(bootSeconds) });

  const interval = Number(process.env.NODE_MIRROR_INTERVAL_MS ?? DEFAULT_MIRROR_INTERVAL_MS);
  let stopping = false;
  let lastError = "";
  const loop = async (): Promise<void> => {
    while (!stopping) {
      try {
        await runPass();
        lastError = "";
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // The same failure every second would drown the log: report it when it changes.
        if (message !== lastError) log.warn("node mirror pass failed", { error: message });
        lastError = message;
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  };
  const looping = mirror ? loop() : Promise.resolve();

  const shutdown = (signal: string): void => {
    log.info("stopping", { signal });
    stopping = true;
    server.close();
    void emulator.reset().then(() => looping).finally(() => process.exit(0));
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`eks-emulator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
