// A pod-level watcher for PodDisruptionBudgets: it samples every pod until stopped and records each
// moment a budget's pods had fewer healthy members than the budget demands. The demand is the one
// the disruption controller computed (status.desiredHealthy) once every budget had seen all its
// pods healthy before the upgrade; the counting afterwards is done here, from the pods themselves,
// so that it does not lag behind the controller.
import * as k8s from "@kubernetes/client-node";
import { waitUntil } from "./wait.js";

/** Ready and not on its way out: what the disruption controller counts as healthy. */
export function isHealthyPod(pod: k8s.V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && (pod.status?.conditions ?? []).some((entry) => entry.type === "Ready" && entry.status === "True");
}

/** Whether a label selector (matchLabels and matchExpressions) selects these labels. */
export function selects(selector: k8s.V1LabelSelector | undefined, labels: Record<string, string>): boolean {
  // A budget with an empty selector selects every pod in its namespace; a missing one selects none.
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, expression.key);
    const values = expression.values ?? [];
    switch (expression.operator) {
      case "In":
        if (!has || !values.includes(labels[expression.key])) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[expression.key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        throw new Error(`label selector operator ${expression.operator} is not known`);
    }
  }
  return true;
}

export interface BudgetDemand {
  namespace: string;
  name: string;
  selector: k8s.V1LabelSelector | undefined;
  /** Healthy pods the budget demands. */
  desiredHealthy: number;
  /** Pods it covered when the demand was read. */
  expectedPods: number;
}

/** Healthy pods per budget in one list of pods. */
export function healthyPerBudget(demands: readonly BudgetDemand[], pods: readonly k8s.V1Pod[]): number[] {
  return demands.map(
    (demand) => pods.filter((pod) => pod.metadata?.namespace === demand.namespace && selects(demand.selector, pod.metadata?.labels ?? {}) && isHealthyPod(pod)).length,
  );
}

/**
 * Waits until the disruption controller has seen every budget with all its pods healthy, and
 * returns what each demands. Budgets that cover no pod demand nothing and are left out.
 */
export async function readBudgetDemands(kubeConfig: k8s.KubeConfig, timeoutMs = 120_000): Promise<BudgetDemand[]> {
  const policy = kubeConfig.makeApiClient(k8s.PolicyV1Api);
  return waitUntil(
    "every PodDisruptionBudget to see all its pods healthy",
    async () => {
      const budgets = (await policy.listPodDisruptionBudgetForAllNamespaces()).items;
      const settled = budgets.every(
        (budget) => budget.status !== undefined && budget.status.observedGeneration === budget.metadata?.generation && budget.status.currentHealthy === budget.status.expectedPods,
      );
      if (!settled) return undefined;
      return budgets
        .filter((budget) => (budget.status?.expectedPods ?? 0) > 0)
        .map((budget) => ({
          namespace: budget.metadata!.namespace!,
          name: budget.metadata!.name!,
          selector: budget.spec?.selector,
          desiredHealthy: budget.status!.desiredHealthy,
          expectedPods: budget.status!.expectedPods,
        }));
    },
    timeoutMs,
    1_000,
  );
}

/** Samples the pods until stopped; records every moment a budget had fewer healthy pods than it demands. */
export class BudgetWatcher {
  readonly violations: string[] = [];
  samples = 0;
  /** Samples that failed (the API server did not answer); reported, not counted as violations. */
  errors = 0;
  private running = true;
  private readonly done: Promise<void>;

  private constructor(
    private readonly core: k8s.CoreV1Api,
    readonly demands: readonly BudgetDemand[],
    private readonly intervalMs: number,
  ) {
    this.done = this.loop();
  }

  /** Reads the budgets' demands (waiting for them to settle), then starts sampling. */
  static async start(kubeConfig: k8s.KubeConfig, options: { intervalMs?: number } = {}): Promise<BudgetWatcher> {
    const demands = await readBudgetDemands(kubeConfig);
    if (demands.length === 0) throw new Error("no PodDisruptionBudget covers any pod: the watcher would check nothing");
    return new BudgetWatcher(kubeConfig.makeApiClient(k8s.CoreV1Api), demands, options.intervalMs ?? 200);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const pods = (await this.core.listPodForAllNamespaces()).items;
        this.samples++;
        const healthy = healthyPerBudget(this.demands, pods);
        for (const [index, demand] of this.demands.entries()) {
          if (healthy[index] < demand.desiredHealthy) {
            this.violations.push(`${new Date().toISOString()} ${demand.namespace}/${demand.name}: ${healthy[index]} healthy of ${demand.expectedPods}, budget demands ${demand.desiredHealthy}`);
          }
        }
      } catch {
        this.errors++;
      }
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}
