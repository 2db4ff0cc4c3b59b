import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { formatHolder } from "../../../src/claims/holder.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const iamDirectory = path.join(root, "config/iam");

type Condition = Record<string, Record<string, string | string[]>>;

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: Record<string, string>;
  Condition?: Condition;
}

interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

function load(file: string): PolicyDocument {
  return JSON.parse(readFileSync(path.join(iamDirectory, file), "utf8")) as PolicyDocument;
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

// Which actions the policies grant at all is checked against the adapters' source in
// iam-actions.test.ts; this file checks how each is scoped.

const CREATE_GREEN_ACTIONS = ["eks:CreateCluster", "eks:CreateNodegroup", "eks:CreateAddon", "eks:TagResource", "iam:PassRole"];
const RETIRE_BLUE_ACTIONS = ["eks:UpdateNodegroupConfig", "eks:DeleteNodegroup", "eks:DeleteCluster"];

/** Actions that support no resource-level permission, so "Resource": "*" is the only option. */
const ACTIONS_WITHOUT_RESOURCE_TYPES = new Set([
  "eks:DescribeAddonVersions",
  "eks:DescribeClusterVersions",
  "eks:CreateCluster",
  "eks:CreateNodegroup",
  "autoscaling:DescribeAutoScalingGroups",
  "ec2:DescribeSubnets",
  "ec2:DescribeSecurityGroups",
  "ec2:DescribeInstances",
  "ec2:DescribeLaunchTemplateVersions",
  "ec2:DescribeImages",
  // Scoped by its conditions to launches through this account's launch templates.
  "ec2:RunInstances",
]);

const PERMISSION_POLICIES = ["policy.json", "policy-create-green.json", "policy-retire-blue.json"];
const PLACEHOLDERS = ["ACCOUNT_ID", "BLUE_CLUSTER_NAME", "OIDC_PROVIDER"];
/** The tag a platform team sets on what the operator may change (docs/install.md, "Opting resources in"). */
const MANAGED_TAG_CONDITION = "aws:ResourceTag/eksupgrade.io/managed";

function actionsOf(policy: PolicyDocument): string[] {
  return [...new Set(policy.Statement.flatMap((statement) => list(statement.Action)))].sort();
}

function statementsWith(policy: PolicyDocument, action: string): Statement[] {
  return policy.Statement.filter((statement) => list(statement.Action).includes(action));
}

describe("config/iam policies", () => {
  it("are valid policy documents with unique statement ids and only Allow statements", () => {
    for (const file of readdirSync(iamDirectory).filter((name) => name.endsWith(".json"))) {
      const policy = load(file);
      assert.equal(policy.Version, "2012-10-17", file);
      const sids = policy.Statement.map((statement) => statement.Sid);
      assert.ok(sids.every((sid) => sid && /^[A-Za-z0-9]+$/.test(sid)), `${file}: every statement needs an alphanumeric Sid`);
      assert.equal(new Set(sids).size, sids.length, `${file}: duplicate Sid`);
      assert.ok(policy.Statement.every((statement) => statement.Effect === "Allow"), file);
    }
  });

  it("keep the actions of optional features in their own files", () => {
    assert.deepEqual(actionsOf(load("policy-create-green.json")), [...CREATE_GREEN_ACTIONS].sort());
    assert.deepEqual(actionsOf(load("policy-retire-blue.json")), [...RETIRE_BLUE_ACTIONS].sort());
  });

  it("use no wildcard actions, and Resource * only where AWS offers nothing narrower", () => {
    for (const file of PERMISSION_POLICIES) {
      for (const statement of load(file).Statement) {
        for (const action of list(statement.Action)) assert.ok(!action.includes("*"), `${file} ${statement.Sid}: wildcard action ${action}`);
        if (list(statement.Resource).includes("*")) {
          const scopedActions = list(statement.Action).filter((action) => !ACTIONS_WITHOUT_RESOURCE_TYPES.has(action));
          assert.deepEqual(scopedActions, [], `${file} ${statement.Sid}: Resource * for actions that support resource ARNs`);
        }
      }
    }
  });

  it("let every change to an existing resource touch only resources opted in with eksupgrade.io/managed=true", () => {
    const changes: Record<string, string[]> = {
      "policy.json": [
        "eks:UpdateClusterVersion",
        "eks:UpdateNodegroupVersion",
        "eks:UpdateAddon",
        "eks:TagResource",
        "eks:UntagResource",
        "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
        "autoscaling:SuspendProcesses",
        "autoscaling:ResumeProcesses",
        "autoscaling:CreateOrUpdateTags",
        "autoscaling:DeleteTags",
      ],
      "policy-retire-blue.json": RETIRE_BLUE_ACTIONS,
    };
    for (const [file, actions] of Object.entries(changes)) {
      const policy = load(file);
      for (const action of actions) {
        const statements = statementsWith(policy, action);
        assert.ok(statements.length > 0, `${file}: ${action} is not granted`);
        for (const statement of statements) assert.equal(statement.Condition?.StringEquals?.[MANAGED_TAG_CONDITION], "true", `${file} ${statement.Sid}: ${action}`);
      }
    }
    // Nothing else changes anything: every other action of these files only reads.
    const guarded = new Set(Object.values(changes).flat());
    for (const file of ["policy.json", "policy-retire-blue.json"]) {
      for (const statement of load(file).Statement) {
        for (const action of list(statement.Action)) {
          if (guarded.has(action)) continue;
          assert.match(action, /:(Describe|List|Get|CreateLaunchTemplateVersion|RunInstances|PassRole|ChangeResourceRecordSets)/, `${file} ${statement.Sid}: ${action} changes something without the opt-in tag`);
        }
      }
    }
  });

  it("write only the operator's own tags on Auto Scaling groups, never the opt-in tag itself", () => {
    for (const action of ["autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"]) {
      for (const statement of statementsWith(load("policy.json"), action)) {
        assert.deepEqual(statement.Condition?.["ForAllValues:StringLike"]?.["aws:TagKeys"], ["eksupgrade.io/*"], action);
        assert.deepEqual(statement.Condition?.["ForAllValues:StringNotEquals"]?.["aws:TagKeys"], ["eksupgrade.io/managed"], action);
      }
    }
  });

  it("create green only tagged as the operator's and opted in, and add add-ons only to clusters it created", () => {
    const policy = load("policy-create-green.json");
    for (const action of ["eks:CreateCluster", "eks:CreateNodegroup", "eks:TagResource"]) {
      for (const statement of statementsWith(policy, action)) {
        assert.equal(statement.Condition?.StringEquals?.["aws:RequestTag/eksupgrade.io/managed"], "true", action);
        assert.equal(statement.Condition?.Null?.["aws:RequestTag/eksupgrade.io/created-by"], "false", action);
      }
    }
    for (const statement of statementsWith(policy, "eks:CreateAddon")) {
      assert.equal(statement.Condition?.Null?.["aws:ResourceTag/eksupgrade.io/created-by"], "false");
    }
  });

  it("pass roles only to the service that needs them", () => {
    const expected: Record<string, string> = { "policy.json": "ec2.amazonaws.com", "policy-create-green.json": "eks.amazonaws.com" };
    for (const [file, service] of Object.entries(expected)) {
      const statements = statementsWith(load(file), "iam:PassRole");
      assert.ok(statements.length > 0, file);
      for (const statement of statements) assert.equal(statement.Condition?.StringEquals?.["iam:PassedToService"], service, file);
    }
  });

  it("launch instances only through launch templates", () => {
    for (const statement of statementsWith(load("policy.json"), "ec2:RunInstances")) {
      assert.ok(statement.Condition?.ArnLike?.["ec2:LaunchTemplate"]);
      assert.equal(statement.Condition?.Bool?.["ec2:IsLaunchTemplateResource"], "true");
    }
  });

  it("change Route53 records only by UPSERT of A, AAAA or CNAME records, or the operator's own ownership TXT records", () => {
    const statements = statementsWith(load("policy.json"), "route53:ChangeResourceRecordSets");
    assert.equal(statements.length, 2);
    for (const statement of statements) {
      const condition = statement.Condition?.["ForAllValues:StringEquals"];
      if (condition?.["route53:ChangeResourceRecordSetsRecordTypes"]?.includes("TXT")) {
        // Claims: a change batch that DELETEs the old ownership value and CREATEs the new one.
        assert.deepEqual(condition["route53:ChangeResourceRecordSetsActions"], ["CREATE", "DELETE"]);
        assert.deepEqual(condition["route53:ChangeResourceRecordSetsRecordTypes"], ["TXT"]);
        assert.deepEqual(statement.Condition?.["ForAllValues:StringLike"]?.["route53:ChangeResourceRecordSetsNormalizedRecordNames"], ["_eksupgrade-claim-*"]);
        continue;
      }
      assert.deepEqual(condition?.["route53:ChangeResourceRecordSetsActions"], ["UPSERT"]);
      assert.deepEqual(condition?.["route53:ChangeResourceRecordSetsRecordTypes"], ["A", "AAAA", "CNAME"]);
    }
  });

  it("let EKS tags be written and removed only under the claim's own key", () => {
    for (const action of ["eks:TagResource", "eks:UntagResource"]) {
      for (const statement of statementsWith(load("policy.json"), action)) {
        assert.deepEqual(statement.Condition?.["ForAllValues:StringEquals"]?.["aws:TagKeys"], ["eksupgrade.io/claimed-by"], action);
      }
    }
  });

  it("let a control plane be upgraded only while this operator's claim tag is on the cluster, whose value the claim code writes", () => {
    const statements = statementsWith(load("policy.json"), "eks:UpdateClusterVersion");
    assert.ok(statements.length > 0);
    const claimPattern = "uid=*";
    for (const statement of statements) {
      assert.deepEqual(list(statement.Resource), ["arn:aws:eks:*:ACCOUNT_ID:cluster/*"], statement.Sid);
      assert.equal(statement.Condition?.StringLike?.["aws:ResourceTag/eksupgrade.io/claimed-by"], claimPattern, statement.Sid);
    }
    // The pattern must match what a claim really writes, or every hop would be refused.
    const written = formatHolder({ uid: "0a1b", operator: "mgmt", since: "2026-11-29T10:00:00Z", upgrade: "ns/up" });
    assert.ok(written.startsWith(claimPattern.slice(0, -1)), written);
  });

  it("trust only the operator's ServiceAccount (IRSA) or the EKS Pod Identity agent", () => {
    const irsa = load("irsa-trust-policy.json").Statement[0];
    assert.equal(list(irsa.Action)[0], "sts:AssumeRoleWithWebIdentity");
    assert.equal(irsa.Condition?.StringEquals?.["OIDC_PROVIDER:sub"], "system:serviceaccount:eks-upgrade-system:eks-upgrade-operator");
    assert.equal(irsa.Condition?.StringEquals?.["OIDC_PROVIDER:aud"], "sts.amazonaws.com");
    const podIdentity = load("pod-identity-trust-policy.json").Statement[0];
    assert.equal(podIdentity.Principal?.Service, "pods.eks.amazonaws.com");
    assert.deepEqual(list(podIdentity.Action).sort(), ["sts:AssumeRole", "sts:TagSession"]);
  });

  it("use only placeholders that docs/install.md explains, and the docs name every policy file", () => {
    const install = readFileSync(path.join(root, "docs/install.md"), "utf8");
    for (const file of readdirSync(iamDirectory).filter((name) => name.endsWith(".json"))) {
      assert.ok(install.includes(`config/iam/${file}`), `docs/install.md does not mention config/iam/${file}`);
      const text = readFileSync(path.join(iamDirectory, file), "utf8");
      for (const word of text.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g) ?? []) {
        assert.ok(PLACEHOLDERS.includes(word), `${file}: unknown placeholder ${word}`);
      }
    }
    for (const placeholder of PLACEHOLDERS) assert.ok(install.includes(placeholder), `docs/install.md does not explain ${placeholder}`);
  });
});
