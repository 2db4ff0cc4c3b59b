import { EKSClient, UpdateClusterVersionCommand, DescribeUpdateCommand, UpdateNodegroupVersionCommand } from "@aws-sdk/client-eks";
const eks = new EKSClient({ endpoint: process.env.AWS_ENDPOINT_URL_EKS, region: process.env.AWS_REGION });
const wait = async (name: string, updateId: string, nodegroupName?: string) => { for (;;) { const u = (await eks.send(new DescribeUpdateCommand({ name, updateId, nodegroupName }))).update!; if (u.status !== "InProgress") return u; await new Promise(r => setTimeout(r, 1000)); } };
const t0 = Date.now();
const cp = (await eks.send(new UpdateClusterVersionCommand({ name: "large", version: "1.32" }))).update!;
console.log("cp", (await wait("large", cp.id!)).status, (Date.now() - t0) / 1000);
const ng = (await eks.send(new UpdateNodegroupVersionCommand({ clusterName: "large", nodegroupName: "pool-1" }))).update!;
const done = await wait("large", ng.id!, "pool-1");
console.log("ng", done.status, JSON.stringify(done.errors).slice(0, 500), (Date.now() - t0) / 1000);
