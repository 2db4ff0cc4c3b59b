// Tests install the CRD the same way the demo does.
export { ensureNamespace, installCrd, loadCrd } from "../../sandbox/crd.js";

/** The message of the API server's Status answer, unescaped. */
export function statusMessage(body: unknown): string {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    return text;
  }
}
