// The roll's reads, once per pass: the group, the nodes of its instances, and each instance's AMI.
// The planner decides from this and nothing else.
import type { CloudPorts } from "../../cloud/ports.js";
import type { NodeOperations } from "../../kube/nodes.js";
import { nodesOfGroup, type RollObservation } from "./plan.js";

export async function observeRoll(cloud: CloudPorts, ops: NodeOperations, groupName: string): Promise<RollObservation> {
  const group = await cloud.autoscaling.describeGroup(groupName);
  const members = nodesOfGroup(group, await ops.listNodes());
  const images = await cloud.ec2.instanceImages(group.instances.map((instance) => instance.id));
  return { group, members, images };
}
