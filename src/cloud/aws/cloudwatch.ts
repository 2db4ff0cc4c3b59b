// CloudWatchPort over @aws-sdk/client-cloudwatch: the state of the alarms a blue/green gate watches.
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import type { AlarmState, CloudWatchPort } from "../ports.js";
import { awsCall } from "./call.js";
import { awsClientConfig } from "./client-config.js";

/** DescribeAlarms accepts at most 100 names per call. */
const ALARM_NAMES_PER_CALL = 100;

export class AwsCloudWatch implements CloudWatchPort {
  constructor(private readonly client: CloudWatchClient) {}

  static forRegion(region: string): AwsCloudWatch {
    return new AwsCloudWatch(new CloudWatchClient(awsClientConfig(region)));
  }

  async alarmStates(alarmNames: string[]): Promise<Record<string, AlarmState>> {
    const states: Record<string, AlarmState> = {};
    for (let index = 0; index < alarmNames.length; index += ALARM_NAMES_PER_CALL) {
      const names = alarmNames.slice(index, index + ALARM_NAMES_PER_CALL);
      let nextToken: string | undefined;
      do {
        const page = await awsCall(`reading CloudWatch alarms ${names.join(", ")}`, (options) =>
          this.client.send(new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ["MetricAlarm", "CompositeAlarm"], ...(nextToken ? { NextToken: nextToken } : {}) }), options),
        );
        for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
          if (alarm.AlarmName && alarm.StateValue) states[alarm.AlarmName] = alarm.StateValue;
        }
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return states;
  }
}
