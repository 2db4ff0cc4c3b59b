// The operator under chaos: one process at a time, killed with SIGKILL at the moments of a seeded
// schedule and started again at once, as a crash-looping Deployment would be. Each kill lands a
// drawn delay after the operator's workers started, so it interrupts work rather than start-up.
import { existsSync, readFileSync } from "node:fs";
import { startOperatorProcess, type OperatorProcess } from "../support/operator.js";


/** The manager's log line once it leads and its workers run (src/runtime/manager.ts). */
const WORKING = "workers started";
const START_TIMEOUT_MS = 120_000;

export interface Kill {
  /** When it was sent (epoch ms). */
  at: number;
  /** How long after the workers started. */
  afterMs: number;
  identity: string;
}

export class ChaosOperators {
  readonly kills: Kill[] = [];
  readonly logPaths: string[] = [];
  /** Why the kill loop stopped early, if it did. */
  problem: string | undefined;
  private current: OperatorProcess | undefined;
  private kubeconfig: string | undefined;
  private stopped = false;
  private wake: () => void = () => undefined;
  private readonly loop: Promise<void>;

  /** Starts the first operator, then kills and restarts it once per entry of `schedule` (ms after its workers start). */
  constructor(
    private readonly env: Record<string, string>,
    schedule: readonly number[],
  ) {
    this.current = this.spawn();
    this.loop = this.killLoop(schedule);
  }

  /** The first operator's kubeconfig, holding the ServiceAccount token every operator of this run uses. */
  get kubeconfigPath(): string {
    return this.kubeconfig!;
  }

  private spawn(): OperatorProcess {
    const started = startOperatorProcess(this.env, { kubeconfigPath: this.kubeconfig });
    this.kubeconfig ??= started.kubeconfigPath;
    this.logPaths.push(started.logPath);
    return started;
  }

  /** Resolves after `ms`, or at once when the loop is told to stop. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async workingSince(operator: OperatorProcess): Promise<number | undefined> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!this.stopped && Date.now() < deadline) {
      if (operator.child.exitCode !== null || operator.child.signalCode !== null) throw new Error(`operator ${operator.identity} exited (${operator.child.exitCode ?? operator.child.signalCode}) before its workers started; see ${operator.logPath}`);
      if (existsSync(operator.logPath) && readFileSync(operator.logPath, "utf8").includes(WORKING)) return Date.now();
      await this.pause(200);
    }
    if (this.stopped) return undefined;
    throw new Error(`operator ${operator.identity} did not start its workers within ${START_TIMEOUT_MS / 1000} s; see ${operator.logPath}`);
  }

  private async killLoop(schedule: readonly number[]): Promise<void> {
    try {
      for (const delay of schedule) {
        const operator = this.current!;
        const since = await this.workingSince(operator);
        if (since === undefined) return;
        await this.pause(delay);
        if (this.stopped) return;
        await operator.kill();
        this.kills.push({ at: Date.now(), afterMs: Date.now() - since, identity: operator.identity });
        this.current = this.spawn();
      }
    } catch (error) {
      this.problem = (error as Error).message;
    }
  }

  /** No more kills; the operator running now keeps running. */
  async stopKilling(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
  }

  /** Stops killing, then stops the operator (SIGTERM). */
  async stop(): Promise<void> {
    await this.stopKilling();
    await this.current?.stop();
  }

  /** Kills sent between two moments (epoch ms). */
  killsBetween(from: number, to: number): number {
    return this.kills.filter((kill) => kill.at >= from && kill.at <= to).length;
  }
}
