// What a running sandbox tells its users: the sourceable <dir>/env file for shells, and
// <dir>/state.json for programs (tests, the seeding code, `sandbox status`).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { awsRegion, defaultStateDir, dummyAwsCredentials, type SandboxPorts } from "./config.js";

export interface SandboxEnv {
  /** Absolute directory holding this sandbox's state, logs and pids. */
  dir: string;
  kubeconfigPath: string;
  apiServerUrl: string;
  /** moto: EC2, Auto Scaling, Route53, CloudWatch. */
  awsEndpointUrl: string;
  /** The project's EKS emulator (AWS_ENDPOINT_URL_EKS). */
  eksEndpointUrl: string;
  /** The emulator's sandbox-only endpoints, e.g. POST <url>/reset. */
  emulatorAdminUrl: string;
  awsRegion: string;
  awsAccessKeyId: string;
  awsSecretAccessKey: string;
  /** Exactly the variables written to <dir>/env, for child processes and SDK clients. */
  variables: Record<string, string>;
}

export interface SandboxState {
  startedAt: string;
  ports: SandboxPorts;
  scenario: string | undefined;
  env: SandboxEnv;
}

export function sandboxEnvFor(dir: string, ports: SandboxPorts): SandboxEnv {
  const kubeconfigPath = join(dir, "kubeconfig");
  const awsEndpointUrl = `http://127.0.0.1:${ports.moto}`;
  const eksEndpointUrl = `http://127.0.0.1:${ports.emulator}`;
  const emulatorAdminUrl = `${eksEndpointUrl}/sandbox`;
  const variables: Record<string, string> = {
    KUBECONFIG: kubeconfigPath,
    AWS_ENDPOINT_URL: awsEndpointUrl,
    AWS_ENDPOINT_URL_EKS: eksEndpointUrl,
    AWS_REGION: awsRegion,
    AWS_DEFAULT_REGION: awsRegion,
    AWS_ACCESS_KEY_ID: dummyAwsCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: dummyAwsCredentials.secretAccessKey,
    EKS_EMULATOR_ADMIN_URL: emulatorAdminUrl,
    EKSUP_SANDBOX_DIR: dir,
    // The emulated EKS AMIs are registered in moto by the sandbox's own account, not by "amazon".
    EKS_AMI_OWNER: "self",
  };
  return {
    dir,
    kubeconfigPath,
    apiServerUrl: `https://127.0.0.1:${ports.apiServer}`,
    awsEndpointUrl,
    eksEndpointUrl,
    emulatorAdminUrl,
    awsRegion,
    awsAccessKeyId: dummyAwsCredentials.accessKeyId,
    awsSecretAccessKey: dummyAwsCredentials.secretAccessKey,
    variables,
  };
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replaceAll("'", `'"'"'`)}'`;
}

export function writeEnvFiles(state: SandboxState): void {
  const lines = Object.entries(state.env.variables).map(([name, value]) => `export ${name}=${shellQuote(value)}`);
  writeFileSync(join(state.env.dir, "env"), `# Written by sandbox up; source it: . .sandbox/env\n${lines.join("\n")}\n`);
  writeFileSync(join(state.env.dir, "state.json"), JSON.stringify(state, null, 2) + "\n");
}

export function readSandboxState(dir: string = process.env.EKSUP_SANDBOX_DIR ?? defaultStateDir): SandboxState | undefined {
  const file = join(dir, "state.json");
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as SandboxState;
}

/** The environment of the sandbox in `dir` (default: $EKSUP_SANDBOX_DIR or .sandbox); throws when none is up. */
export function readSandboxEnv(dir?: string): SandboxEnv {
  const state = readSandboxState(dir);
  if (!state) throw new Error(`no sandbox state in ${dir ?? defaultStateDir}; run: npm run sandbox -- up`);
  return state.env;
}
