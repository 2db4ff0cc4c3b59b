// Tests install the CRD the same way the demo does.
export { ensureNamespace, installCrd, loadCrd } from "../../sandbox/crd.js";
