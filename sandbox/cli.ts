// The local sandbox's command line: npm run sandbox -- up [--scenario FILE|none] | status | reset | down | operator-kubeconfig | faults
import { parseArgs } from "node:util";
import { parseFaultRates, startFaultProxy, type FaultProxy, type InjectedFault } from "./faults/http-proxy.js";
import { defaultStateDir } from "./runtime/config.js";
import { installOperatorIdentity } from "./runtime/operator-identity.js";
import { readSandboxEnv, readSandboxState } from "./runtime/env.js";
import { resetSandbox } from "./runtime/reset.js";
import { sandboxStatus, startSandbox, stderrLogger, stopSandbox } from "./runtime/supervisor.js";

const usage = `usage: npm run sandbox -- <command>

  up [--scenario FILE|none] [--no-build]
                 start etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, moto
                 and the EKS emulator on 127.0.0.1, then seed the scenario
                 (default sandbox/scenarios/default.yaml); writes .sandbox/env and .sandbox/kubeconfig
  status         each component's pid, port and health
  reset [--scenario FILE|none]
                 empty moto, the EKS emulator and Kubernetes, then seed the scenario again
                 (default: the one seeded by up)
  down           stop every sandbox process and remove the sandbox's files
  operator-kubeconfig [--secret-namespace NS]...
                 apply config/rbac, mint a token for the operator's ServiceAccount and print the
                 path of a kubeconfig carrying it (run the operator with KUBECONFIG set to it);
                 each --secret-namespace gets the secret reader Role and RoleBinding too
  faults [--seed S] [--rate [SERVICE.]KIND=P]... [--hang-ms MS] [--delay-ms MS|MIN-MAX]
                 fault proxies in front of moto and the EKS emulator for an operator you start
                 yourself: prints the AWS_ENDPOINT_URL* to export, logs each injected fault, and
                 runs until Ctrl-C (KIND: throttle error500 error503 reset resetAfter hang;
                 SERVICE: eks ec2 autoscaling route53 cloudwatch sts)

State directory: $EKSUP_SANDBOX_DIR or .sandbox; ports and cache: docs/sandbox.md`;

function scenarioOption(value: string | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  return value === "none" ? null : value;
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scenario: { type: "string" },
      "no-build": { type: "boolean", default: false },
      "secret-namespace": { type: "string", multiple: true },
      seed: { type: "string" },
      rate: { type: "string", multiple: true },
      "hang-ms": { type: "string" },
      "delay-ms": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const command = positionals[0];
  if (values.help || command === undefined || positionals.length > 1) {
    process.stdout.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const dir = process.env.EKSUP_SANDBOX_DIR ?? defaultStateDir;
  switch (command) {
    case "up": {
      const handle = await startSandbox({ dir, scenario: scenarioOption(values.scenario), build: !values["no-build"] });
      const env = handle.env;
      process.stdout.write(
        [
          `kubeconfig:   ${env.kubeconfigPath}`,
          `API server:   ${env.apiServerUrl}`,
          `AWS (moto):   ${env.awsEndpointUrl}`,
          `EKS emulator: ${env.eksEndpointUrl}`,
          `environment:  . ${dir}/env`,
          "",
        ].join("\n"),
      );
      return 0;
    }
    case "status": {
      const { state, components } = await sandboxStatus(dir);
      if (components.length === 0) {
        process.stdout.write(`sandbox is not running (no state in ${dir})\n`);
        return 1;
      }
      const rows = components.map((component) => [
        component.name,
        String(component.pid),
        component.port === undefined ? "-" : `127.0.0.1:${component.port}`,
        component.running ? (component.healthy ? "healthy" : "unhealthy") : "not running",
      ]);
      const header = ["COMPONENT", "PID", "LISTEN", "HEALTH"];
      const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
      for (const row of [header, ...rows]) {
        process.stdout.write(row.map((cell, column) => cell.padEnd(widths[column])).join("  ").trimEnd() + "\n");
      }
      if (state) {
        process.stdout.write(`\nstarted ${state.startedAt}; scenario: ${state.scenario ?? "none"}; environment: . ${dir}/env\n`);
      } else {
        process.stdout.write("\nthe sandbox did not finish starting (no state.json)\n");
      }
      return state && components.every((component) => component.healthy) ? 0 : 1;
    }
    case "reset": {
      const env = readSandboxEnv(dir);
      const scenario = values.scenario === undefined ? readSandboxState(dir)?.scenario : scenarioOption(values.scenario);
      await resetSandbox(env, { scenario, log: stderrLogger });
      return 0;
    }
    case "down": {
      await stopSandbox(dir);
      process.stdout.write(`sandbox stopped; its files in ${dir} removed\n`);
      return 0;
    }
    case "operator-kubeconfig": {
      const path = await installOperatorIdentity(readSandboxEnv(dir), { secretNamespaces: values["secret-namespace"] ?? [] });
      process.stdout.write(`${path}\n`);
      return 0;
    }
    case "faults":
      return runFaults(dir, values);
    default:
      process.stderr.write(`unknown command ${command}\n${usage}\n`);
      return 2;
  }
}

function millisecondsOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number of milliseconds >= 0, got "${raw}"`);
  return value;
}

async function runFaults(dir: string, values: { seed?: string; rate?: string[]; "hang-ms"?: string; "delay-ms"?: string }): Promise<number> {
  const seed = values.seed ?? String(Date.now());
  const rates = parseFaultRates(values.rate ?? []);
  const hangMs = millisecondsOption("hang-ms", values["hang-ms"]);
  const delayWords = values["delay-ms"]?.split("-");
  const delayMs = delayWords
    ? ([millisecondsOption("delay-ms", delayWords[0]), millisecondsOption("delay-ms", delayWords[1] ?? delayWords[0])] as [number, number])
    : undefined;
  const env = readSandboxEnv(dir);
  const log = (fault: InjectedFault & { proxy: string }): void => {
    process.stderr.write(`${new Date().toISOString()} ${fault.proxy} #${fault.request} ${fault.service} ${fault.operation}: ${fault.kind}${fault.code ? ` ${fault.status} ${fault.code}` : ""}\n`);
  };
  const proxies: FaultProxy[] = [];
  try {
    for (const [name, target] of [["moto", env.awsEndpointUrl], ["eks", env.eksEndpointUrl]] as const) {
      proxies.push(await startFaultProxy({ target, seed: `${seed}/${name}`, rates, hangMs, delayMs, name, onFault: (fault) => log({ ...fault, proxy: name }) }));
    }
  } catch (error) {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    throw error;
  }
  process.stdout.write(
    [
      `# fault proxies, seed ${seed}, rates ${JSON.stringify(rates)}`,
      `# for the operator only: . ${dir}/env first, then`,
      `export AWS_ENDPOINT_URL=${proxies[0].url}`,
      `export AWS_ENDPOINT_URL_EKS=${proxies[1].url}`,
      `export AWS_ENDPOINT_URL_STS=${env.awsEndpointUrl}`,
      "",
    ].join("\n"),
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  for (const proxy of proxies) {
    const stats = proxy.stats();
    process.stderr.write(`${stats.name}: ${stats.requests} request(s), ${stats.faults.length} fault(s) ${JSON.stringify(stats.byKind)}\n`);
    await proxy.close();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
