// The local sandbox's command line: npm run sandbox -- up [--scenario FILE|none] | status | reset | down | operator-kubeconfig
import { parseArgs } from "node:util";
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
    default:
      process.stderr.write(`unknown command ${command}\n${usage}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
