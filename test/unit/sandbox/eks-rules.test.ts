import assert from "node:assert/strict";
import { compareAddonVersions, defaultAddonVersion, findAddon, isCompatible, versionsFor } from "../../../sandbox/eks-emulator/addon-catalog.js";
import { kubeletVersionOf, parseAmiName, parseReleaseVersion, releaseVersionOf, amiName } from "../../../sandbox/eks-emulator/amis.js";
import { DEFAULT_TIME_FACTOR, parseTimeFactor, createClock } from "../../../sandbox/eks-emulator/clock.js";
import { checkControlPlaneNetwork, type ObservedSubnet } from "../../../sandbox/eks-emulator/network-check.js";
import { checkControlPlaneHop, checkControlPlaneRollback, isDowngrade, laggingNodegroups, resolveNodegroupTargetVersion } from "../../../sandbox/eks-emulator/versions.js";

describe("EKS emulator: control-plane version hops", () => {
  it("accepts exactly the next minor", () => {
    assert.deepEqual(checkControlPlaneHop("1.29", "1.30"), { ok: true });
    assert.deepEqual(checkControlPlaneHop("1.9", "1.10"), { ok: true });
  });

  it("rejects a skipped minor, the same version and a downgrade, naming the allowed one", () => {
    const skip = checkControlPlaneHop("1.29", "1.31");
    assert.equal(skip.ok, false);
    assert.match(!skip.ok ? skip.reason : "", /from 1\.29 to 1\.31.*next allowed: 1\.30/);
    assert.equal(checkControlPlaneHop("1.30", "1.30").ok, false);
    assert.equal(checkControlPlaneHop("1.30", "1.29").ok, false);
    assert.equal(checkControlPlaneHop("1.30", "latest").ok, false);
  });

  it("defaults a node group's target to the cluster version and refuses one newer than it", () => {
    assert.deepEqual(resolveNodegroupTargetVersion("1.30", undefined), { ok: true, version: "1.30" });
    assert.deepEqual(resolveNodegroupTargetVersion("1.30", "1.29"), { ok: true, version: "1.29" });
    const newer = resolveNodegroupTargetVersion("1.30", "1.31");
    assert.equal(newer.ok, false);
  });

  it("lists managed node groups older than the control plane", () => {
    const groups = [
      { name: "b", version: "1.29" },
      { name: "a", version: "1.28" },
      { name: "c", version: "1.30" },
    ];
    assert.deepEqual(laggingNodegroups("1.30", groups), ["a", "b"]);
    assert.deepEqual(laggingNodegroups("1.29", groups), ["a"]);
  });
});

describe("EKS emulator: network preconditions of a control-plane upgrade", () => {
  const subnet = (subnetId: string, availableIpAddressCount: number, availabilityZone = "us-east-1a"): ObservedSubnet => ({
    subnetId,
    availabilityZone,
    availableIpAddressCount,
  });
  const observe = (subnets: ObservedSubnet[], groups: string[] = ["sg-1"]) => ({
    clusterSubnetIds: ["subnet-a", "subnet-b"],
    clusterSecurityGroupIds: ["sg-1"],
    subnets: new Map(subnets.map((item) => [item.subnetId, item])),
    securityGroupIds: new Set(groups),
  });

  it("passes with 5 free addresses across the cluster's subnets", () => {
    assert.deepEqual(checkControlPlaneNetwork(observe([subnet("subnet-a", 3), subnet("subnet-b", 2)])), []);
  });

  it("fails with InsufficientFreeAddresses below 5, naming the subnets", () => {
    const errors = checkControlPlaneNetwork(observe([subnet("subnet-a", 1), subnet("subnet-b", 3)]));
    assert.equal(errors.length, 1);
    assert.equal(errors[0].errorCode, "InsufficientFreeAddresses");
    assert.deepEqual(errors[0].resourceIds, ["subnet-a", "subnet-b"]);
    assert.match(errors[0].errorMessage, /5 needed, 4 free/);
  });

  it("fails with SubnetNotFound and SecurityGroupNotFound for deleted resources", () => {
    const errors = checkControlPlaneNetwork(observe([subnet("subnet-a", 200)], []));
    assert.deepEqual(
      errors.map((error) => [error.errorCode, error.resourceIds]),
      [
        ["SubnetNotFound", ["subnet-b"]],
        ["SecurityGroupNotFound", ["sg-1"]],
      ],
    );
  });
});

describe("EKS emulator: add-on catalog", () => {
  it("offers kube-proxy only for its own minor, with one default per cluster version", () => {
    assert.equal(isCompatible("kube-proxy", "v1.30.3-eksbuild.2", "1.30"), true);
    assert.equal(isCompatible("kube-proxy", "v1.30.3-eksbuild.2", "1.31"), false);
    assert.equal(defaultAddonVersion("kube-proxy", "1.31"), "v1.31.3-eksbuild.2");
  });

  it("has exactly one default version of every add-on for every cluster version it covers", () => {
    for (const name of ["vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"]) {
      for (let minor = 25; minor <= 34; minor++) {
        const entry = findAddon(name)!;
        const defaults = entry.versions.filter((version) => version.defaultFor.includes(`1.${minor}`));
        assert.equal(defaults.length, 1, `${name} on 1.${minor}`);
        assert.ok(defaults[0].clusterVersions.includes(`1.${minor}`), `${name} default for 1.${minor} is compatible`);
      }
    }
  });

  it("lists versions for a cluster version newest first, comparing numerically", () => {
    const versions = versionsFor(findAddon("coredns")!, "1.30").map((version) => version.addonVersion);
    assert.deepEqual(versions, ["v1.11.4-eksbuild.2", "v1.11.1-eksbuild.9", "v1.10.1-eksbuild.13"]);
    assert.ok(compareAddonVersions("v1.9.3-eksbuild.11", "v1.10.1-eksbuild.1") < 0);
  });
});

describe("EKS emulator: AMI names and release versions", () => {
  it("round-trips a release through the AMI name and derives the kubelet version", () => {
    const release = { version: "1.30", date: "20250115" };
    assert.deepEqual(parseAmiName(amiName(release)), release);
    assert.equal(releaseVersionOf(release), "1.30.4-20250115");
    assert.deepEqual(parseReleaseVersion("1.30.4-20250115"), release);
    assert.equal(kubeletVersionOf(release), "v1.30.4-eks-20250115");
    assert.equal(parseAmiName("amzn2-ami-hvm-2.0"), undefined);
  });
});

describe("EKS emulator: sandbox clock", () => {
  it("scales EKS seconds by the time factor", () => {
    assert.equal(createClock(0.01).scaledMs(600), 6000);
    assert.equal(createClock(1).scaledMs(1.5), 1500);
  });

  it("rejects factors outside (0, 1] and defaults when unset", () => {
    assert.throws(() => parseTimeFactor("0"), /SANDBOX_TIME_FACTOR/);
    assert.throws(() => parseTimeFactor("2"), /SANDBOX_TIME_FACTOR/);
    assert.throws(() => parseTimeFactor("fast"), /SANDBOX_TIME_FACTOR/);
    assert.equal(parseTimeFactor("0.05"), 0.05);
    assert.equal(parseTimeFactor(undefined), DEFAULT_TIME_FACTOR);
    assert.equal(parseTimeFactor(" "), DEFAULT_TIME_FACTOR);
  });
});

describe("EKS emulator: control-plane rollback rules", () => {
  const week = 7 * 24 * 3600;
  const upgraded = { lastUpgrade: { from: "1.30", to: "1.31" }, windowSeconds: week };

  it("takes a request one minor back, to the version upgraded from, within 7 days", () => {
    assert.ok(isDowngrade("1.31", "1.30"));
    assert.ok(!isDowngrade("1.30", "1.31"));
    assert.deepEqual(checkControlPlaneRollback({ current: "1.31", target: "1.30", secondsSinceUpgrade: week - 1, ...upgraded }), { ok: true });
  });

  it("refuses two minors back with InvalidParameterException, naming the one allowed", () => {
    const verdict = checkControlPlaneRollback({ current: "1.31", target: "1.29", secondsSinceUpgrade: 10, ...upgraded });
    assert.ok(!verdict.ok);
    assert.equal(verdict.error, "InvalidParameterException");
    assert.match(verdict.reason, /one minor version only \(allowed: 1\.30\)/);
  });

  it("refuses after 7 days, and when the cluster never was upgraded from that version, with InvalidRequestException", () => {
    const late = checkControlPlaneRollback({ current: "1.31", target: "1.30", secondsSinceUpgrade: week + 1, ...upgraded });
    assert.ok(!late.ok);
    assert.equal(late.error, "InvalidRequestException");
    assert.match(late.reason, /within 7 days/);
    const never = checkControlPlaneRollback({ current: "1.31", target: "1.30", windowSeconds: week });
    assert.ok(!never.ok);
    assert.match(never.reason, /no upgrade to roll back/);
  });
});
