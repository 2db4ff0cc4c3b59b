// The IAM policies against the AWS calls the adapters make: every `new XxxCommand(` of an AWS SDK v3
// client in src/cloud/aws needs its action granted, and every action granted must be sent by some
// adapter (or be one that AWS checks on the operator's behalf, listed below with the reason).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const adapterDirectory = path.join(root, "src/cloud/aws");
const iamDirectory = path.join(root, "config/iam");

/** IAM service prefix of each AWS SDK v3 client package the adapters may import. */
const PREFIX_OF_CLIENT: Readonly<Record<string, string>> = {
  "@aws-sdk/client-eks": "eks",
  "@aws-sdk/client-ec2": "ec2",
  "@aws-sdk/client-auto-scaling": "autoscaling",
  "@aws-sdk/client-route-53": "route53",
  "@aws-sdk/client-cloudwatch": "cloudwatch",
  "@aws-sdk/client-sts": "sts",
  "@aws-sdk/client-iam": "iam",
};

/**
 * Actions no adapter sends but AWS authorizes against the operator's role while serving a call it
 * does send. Each needs its reason; nothing else may be in a policy without a command.
 */
const CHECKED_ON_THE_OPERATORS_BEHALF: Readonly<Record<string, string>> = {
  "iam:PassRole": "CreateCluster and CreateNodegroup pass blue's cluster and node roles to EKS; UpdateAutoScalingGroup to a launch template passes its instance profile's role to EC2",
  "ec2:RunInstances": "Auto Scaling checks that the caller could launch from the launch template version a group is moved to",
};

interface Statement {
  Sid?: string;
  Action: string | string[];
  Principal?: unknown;
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Local name of each imported command to its class name and client package, from `import { ... } from "@aws-sdk/client-..."`. */
function importedCommands(source: string): Map<string, { command: string; client: string }> {
  const commands = new Map<string, { command: string; client: string }>();
  for (const match of source.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"(@aws-sdk\/client-[a-z0-9-]+)"/g)) {
    for (const specifier of match[1].split(",")) {
      // `X as Y` imports X under the name Y.
      const [imported, local] = specifier.trim().split(/\s+as\s+/);
      if (imported?.endsWith("Command")) commands.set(local ?? imported, { command: imported, client: match[2] });
    }
  }
  return commands;
}

/** "prefix:Action" of every command the adapters construct, with the files that send it. */
function actionsSentByAdapters(files: string[] = sourceFiles(adapterDirectory)): Map<string, string[]> {
  const sent = new Map<string, string[]>();
  for (const file of files) {
    const source = readFileSync(file, "utf8");
    const imported = importedCommands(source);
    for (const match of source.matchAll(/new\s+([A-Z][A-Za-z0-9]*)\s*\(/g)) {
      const known = imported.get(match[1]);
      if (!known) continue;
      const prefix = PREFIX_OF_CLIENT[known.client];
      assert.ok(prefix, `${path.relative(root, file)} sends ${known.command} of ${known.client}, whose IAM prefix PREFIX_OF_CLIENT in this test does not know yet`);
      const action = `${prefix}:${known.command.slice(0, -"Command".length)}`;
      sent.set(action, [...new Set([...(sent.get(action) ?? []), path.relative(root, file)])]);
    }
  }
  return sent;
}

/** Actions granted by the permission policies (not the trust policies) of config/iam. */
function actionsGranted(): Map<string, string[]> {
  const granted = new Map<string, string[]>();
  for (const file of readdirSync(iamDirectory).filter((name) => name.endsWith(".json"))) {
    const statements = (JSON.parse(readFileSync(path.join(iamDirectory, file), "utf8")) as { Statement: Statement[] }).Statement;
    if (statements.some((statement) => statement.Principal !== undefined)) continue;
    for (const statement of statements) {
      for (const action of Array.isArray(statement.Action) ? statement.Action : [statement.Action]) {
        granted.set(action, [...(granted.get(action) ?? []), `${file} ${statement.Sid ?? ""}`.trim()]);
      }
    }
  }
  return granted;
}

describe("config/iam against the AWS calls in src/cloud/aws", () => {
  it("grants every action an adapter sends, and nothing no adapter sends", () => {
    const sent = actionsSentByAdapters();
    const granted = actionsGranted();
    const sentNotGranted = [...sent].filter(([action]) => !granted.has(action)).map(([action, files]) => `${action} (sent by ${files.join(", ")})`);
    const grantedNotSent = [...granted]
      .filter(([action]) => !sent.has(action) && !(action in CHECKED_ON_THE_OPERATORS_BEHALF))
      .map(([action, where]) => `${action} (${where.join(", ")})`);
    assert.deepEqual(
      { sentNotGranted: sentNotGranted.sort(), grantedNotSent: grantedNotSent.sort() },
      { sentNotGranted: [], grantedNotSent: [] },
      "add the missing actions to a policy in config/iam, and remove those no adapter sends (or list them with their reason in CHECKED_ON_THE_OPERATORS_BEHALF)",
    );
  });

  it("lists as checked on the operator's behalf only actions a policy grants and no adapter sends", () => {
    const sent = actionsSentByAdapters();
    const granted = actionsGranted();
    for (const action of Object.keys(CHECKED_ON_THE_OPERATORS_BEHALF)) {
      assert.ok(granted.has(action), `${action} is listed but no policy grants it`);
      assert.ok(!sent.has(action), `${action} is sent by ${sent.get(action)?.join(", ")}: it needs no entry`);
    }
  });

  it("finds the commands an adapter sends through its client package, aliases included", () => {
    const dir = path.join(root, "src/cloud/aws");
    const sent = actionsSentByAdapters(sourceFiles(dir));
    // Spot checks across every client the adapters use.
    for (const action of ["eks:UpdateClusterVersion", "autoscaling:TerminateInstanceInAutoScalingGroup", "ec2:DescribeSubnets", "route53:ChangeResourceRecordSets", "cloudwatch:DescribeAlarms"]) {
      assert.ok(sent.has(action), `${action} not found in ${path.relative(root, dir)}`);
    }
    const imported = importedCommands('import { DescribeThingCommand as Describe, type Other, ListCommand } from "@aws-sdk/client-eks";');
    assert.deepEqual([...imported], [
      ["Describe", { command: "DescribeThingCommand", client: "@aws-sdk/client-eks" }],
      ["ListCommand", { command: "ListCommand", client: "@aws-sdk/client-eks" }],
    ]);
  });
});
