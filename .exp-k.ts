import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
const kc = new KubeConfig(); kc.loadFromFile(process.env.KUBECONFIG!);
const core = kc.makeApiClient(CoreV1Api);
for (const n of (await core.listNode()).items) console.log(n.metadata?.name, n.spec?.providerID, n.metadata?.labels?.["eks.amazonaws.com/nodegroup"] ?? n.metadata?.labels?.["sandbox.eks-upgrade-operator.io/auto-scaling-group"], n.metadata?.creationTimestamp, n.spec?.unschedulable);
