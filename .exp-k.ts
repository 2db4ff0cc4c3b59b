import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
const kc = new KubeConfig(); kc.loadFromFile(process.env.KUBECONFIG!);
const core = kc.makeApiClient(CoreV1Api);
const pods = (await core.listPodForAllNamespaces()).items;
const phases: Record<string, number> = {};
for (const p of pods) { const k = `${p.status?.phase}`; phases[k] = (phases[k] ?? 0) + 1; }
console.log(new Date().toISOString(), "pods", pods.length, phases);
