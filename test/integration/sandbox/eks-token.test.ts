// A cluster created through the EKS API is reachable with nothing but an EKS bearer token signed
// with the caller's AWS credentials, as the creator of an EKS cluster is: the sandbox apiserver
// asks the EKS emulator (token webhook), which checks the token and asks moto's STS who signed it.
import assert from "node:assert/strict";
import { ApiException, AuthenticationV1Api, CoreV1Api } from "@kubernetes/client-node";
import { CreateSubnetCommand, CreateVpcCommand, DeleteSubnetCommand, DeleteVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CreateClusterCommand, DeleteClusterCommand, DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { eksBearerToken, eksTokenSource, type EksTokenSource } from "../../../src/cloud/aws/eks-token.js";
import { eksClusterAccess, eksKubeConfig, type EksClusterEndpoint } from "../../../src/kube/eks-access.js";
import { sandboxAwsClientConfig, sandboxEnv } from "../../support/global-sandbox.js";
import { uniqueName } from "./kube-helpers.js";

function fixedToken(token: string): EksTokenSource {
  return () => Promise.resolve({ token, expiresAt: new Date(Date.now() + 15 * 60_000) });
}

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return (error as ApiException<unknown>).code;
    throw error;
  }
}

describe("sandbox Kubernetes: EKS bearer tokens", function () {
  const clusterName = uniqueName("token");
  let eks: EKSClient;
  let ec2: EC2Client;
  let cluster: EksClusterEndpoint;
  let vpcId: string;
  const subnetIds: string[] = [];
  const signing = (): { region: string; credentials: { accessKeyId: string; secretAccessKey: string }; stsEndpoint: string } => {
    const aws = sandboxAwsClientConfig();
    // moto serves STS at the same address as everything else (AWS_ENDPOINT_URL).
    return { region: aws.region, credentials: aws.credentials, stsEndpoint: aws.endpoint };
  };

  before(async function () {
    eks = new EKSClient({ ...sandboxAwsClientConfig(), endpoint: sandboxEnv().eksEndpointUrl });
    ec2 = new EC2Client(sandboxAwsClientConfig());
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.77.0.0/16" }));
    vpcId = vpc.Vpc!.VpcId!;
    for (const [index, zone] of ["us-east-1a", "us-east-1b"].entries()) {
      const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.77.${index}.0/24`, AvailabilityZone: zone }));
      subnetIds.push(subnet.Subnet!.SubnetId!);
    }
    await eks.send(
      new CreateClusterCommand({
        name: clusterName,
        version: "1.31",
        roleArn: "arn:aws:iam::123456789012:role/eks-cluster",
        resourcesVpcConfig: { subnetIds },
      }),
    );
    const described = (await eks.send(new DescribeClusterCommand({ name: clusterName }))).cluster!;
    cluster = { name: clusterName, endpoint: described.endpoint ?? "", certificateAuthorityData: described.certificateAuthority?.data ?? "" };
  });

  after(async function () {
    await eks?.send(new DeleteClusterCommand({ name: clusterName })).catch(() => undefined);
    for (const id of subnetIds) await ec2?.send(new DeleteSubnetCommand({ SubnetId: id })).catch(() => undefined);
    if (vpcId) await ec2?.send(new DeleteVpcCommand({ VpcId: vpcId })).catch(() => undefined);
  });

  it("DescribeCluster reports the sandbox apiserver and its CA for a cluster created through the API", () => {
    assert.equal(cluster.endpoint, sandboxEnv().apiServerUrl);
    assert.match(Buffer.from(cluster.certificateAuthorityData, "base64").toString("utf8"), /BEGIN CERTIFICATE/);
  });

  it("lists namespaces with a token signed for the cluster, as the caller's ARN in system:masters", async function () {
    const tokens = eksTokenSource({ clusterName, ...signing() });
    const kubeConfig = eksKubeConfig(cluster, tokens);
    const namespaces = await kubeConfig.makeApiClient(CoreV1Api).listNamespace();
    assert.ok(namespaces.items.some((namespace) => namespace.metadata?.name === "default"));

    const review = await kubeConfig.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    assert.match(review.status?.userInfo?.username ?? "", /^arn:aws:(sts|iam)::\d{12}:/);
    assert.ok(review.status?.userInfo?.groups?.includes("system:masters"), JSON.stringify(review.status?.userInfo));

    const snapshot = await eksClusterAccess(cluster, tokens).snapshot();
    assert.ok(Array.isArray(snapshot.pods) && Array.isArray(snapshot.nodes));
  });

  it("refuses with 401 a token for an unknown cluster, a tampered token and an expired one", async function () {
    const list = (token: string): Promise<number> => statusOf(eksKubeConfig(cluster, fixedToken(token)).makeApiClient(CoreV1Api).listNamespace());

    const unknown = await eksBearerToken({ clusterName: `${clusterName}-unknown`, ...signing() });
    assert.equal(await list(unknown.token), 401, "unknown cluster");

    const valid = await eksBearerToken({ clusterName, ...signing() });
    const url = new URL(Buffer.from(valid.token.slice("k8s-aws-v1.".length), "base64url").toString("utf8"));
    url.searchParams.set("X-Amz-Expires", "900");
    assert.equal(await list("k8s-aws-v1." + Buffer.from(url.toString()).toString("base64url")), 401, "tampered");

    const expired = await eksBearerToken({ clusterName, ...signing(), now: new Date(Date.now() - 20 * 60_000) });
    assert.equal(await list(expired.token), 401, "expired");

    assert.equal(await list(valid.token), 200, "the untampered token still works");
  });
});
