// Programmatic interface of the local sandbox, for tests and scripts.
export { startSandbox, stopSandbox, sandboxStatus, inspectSandbox, runBuildScripts, stderrLogger } from "./supervisor.js";
export type { StartOptions, SandboxHandle, ComponentStatus, Logger } from "./supervisor.js";
export { readSandboxEnv, readSandboxState } from "./env.js";
export type { SandboxEnv, SandboxState } from "./env.js";
export { resetSandbox, systemNamespaces } from "./reset.js";
export type { ResetOptions } from "./reset.js";
export { kubeConfigOf, isKwokManaged, isNodeReady, waitForManagedNodesReady } from "./seeding.js";
export type { SeedScenario } from "./seeding.js";
export { defaultPorts, defaultStateDir, kwokNodeAnnotation, portVariableNames, readVersions, toolPath } from "./config.js";
export type { SandboxPorts, ToolName, Versions } from "./config.js";
export { ensureTool } from "./tools.js";
export {
  installOperatorIdentity,
  operatorGrants,
  rbacManifests,
  secretReaderFor,
  OPERATOR_NAMESPACE,
  OPERATOR_SERVICE_ACCOUNT,
  OPERATOR_USER,
  SECRET_READER,
} from "./operator-identity.js";
export type { ManifestObject, OperatorGrant, OperatorIdentityOptions, RbacRule } from "./operator-identity.js";
export { auditLogFile } from "./components.js";
