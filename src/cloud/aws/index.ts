// The concrete AWS adapters behind the ports, one set per region.
import type { CloudPorts, CloudPortsFactory } from "../ports.js";
import { AwsAutoScaling } from "./autoscaling.js";
import { AwsCloudWatch } from "./cloudwatch.js";
import { AwsEc2 } from "./ec2.js";
import { AwsEks } from "./eks.js";
import { AwsRoute53 } from "./route53.js";

export function awsCloudPortsFactory(): CloudPortsFactory {
  const byRegion = new Map<string, CloudPorts>();
  return (region) => {
    let ports = byRegion.get(region);
    if (!ports) {
      ports = {
        eks: AwsEks.forRegion(region),
        ec2: AwsEc2.forRegion(region),
        autoscaling: AwsAutoScaling.forRegion(region),
        route53: AwsRoute53.forRegion(region),
        cloudwatch: AwsCloudWatch.forRegion(region),
      };
      byRegion.set(region, ports);
    }
    return ports;
  };
}
