// The roll's decisions, one table row per observed situation: what status recorded and what the
// pass saw (group, nodes, AMIs, clock) -> the action the planner chooses. Plain data in, plain
// data out; the controller tests (test/unit/controllers/clusterupgrade.test.ts) drive the same
// roll through the executor and the fake ports.
import assert from "node:assert/strict";
import type { V1Node } from "@kubernetes/client-node";
import type { NodeGroupStatus, NodeInFlight, PodHold } from "../../../../src/api/v1alpha1/types.js";
import type { AutoScalingGroupInfo, GroupInstance, GroupSize } from "../../../../src/cloud/ports.js";
import type { DrainPassResult } from "../../../../src/drain/engine.js";
import {
  amiFromSpec,
  judgeDrain,
  NEW_NODES_READY_TIMEOUT_MS,
  planNode,
  planRoll,
  rollCounts,
  rollsInHop,
  settleWave,
  startHop,
  startRollback,
  TERMINATION_TIMEOUT_MS,
  type NodeAction,
  type NodeOutcome,
  type RollAction,
  type RollObservation,
  type RollSettings,
} from "../../../../src/nodegroups/self-managed-roll/plan.js";

const T0 = new Date("2026-03-01T10:00:00.000Z");
const minutesBefore = (minutes: number): string => new Date(T0.getTime() - minutes * 60_000).toISOString();
const A = "us-east-1a";
const B = "us-east-1b";
const ORIGINAL: GroupSize = { min: 2, max: 3, desired: 3 };
const SURGED: GroupSize = { min: 2, max: 4, desired: 4 };

interface NodeShape {
  kubelet?: string;
  ready?: boolean;
  zone?: string;
  unschedulable?: boolean;
}

function node(instanceId: string, shape: NodeShape = {}): V1Node {
  const { kubelet = "v1.29.8", ready = true, zone = A, unschedulable = false } = shape;
  return {
    metadata: { name: `node-${instanceId}`, uid: `uid-${instanceId}`, labels: { "topology.kubernetes.io/zone": zone } },
    spec: { providerID: `aws:///${zone}/${instanceId}`, unschedulable },
    status: { nodeInfo: { kubeletVersion: kubelet } as never, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

function instance(id: string, zone = A, lifecycleState = "InService"): GroupInstance {
  return { id, zone, lifecycleState, healthy: true };
}

/** Three old nodes (i-1 and i-3 in zone a, i-2 in zone b) on ami-old and kubelet 1.29. */
function oldWorld(): { instances: GroupInstance[]; nodes: V1Node[]; images: Record<string, string> } {
  return {
    instances: [instance("i-1", A), instance("i-2", B), instance("i-3", A)],
    nodes: [node("i-1", { zone: A }), node("i-2", { zone: B }), node("i-3", { zone: A })],
    images: { "i-1": "ami-old", "i-2": "ami-old", "i-3": "ami-old" },
  };
}

/** The old world after a surge of one: i-4 in zone b, with a new node unless `null`. */
function surgedWorld(newNode: V1Node | null = node("i-4", { kubelet: "v1.30.2", zone: B }), newState = "InService"): ReturnType<typeof oldWorld> {
  const world = oldWorld();
  return {
    instances: [...world.instances, instance("i-4", B, newState)],
    nodes: newNode ? [...world.nodes, newNode] : world.nodes,
    images: { ...world.images, "i-4": "ami-new" },
  };
}

/** Every node replaced: i-4..i-6 on ami-new and kubelet 1.30. */
function rolledWorld(readyCount = 3): ReturnType<typeof oldWorld> {
  const ids = ["i-4", "i-5", "i-6"];
  return {
    instances: ids.map((id, index) => instance(id, index === 1 ? B : A)),
    nodes: ids.map((id, index) => node(id, { kubelet: "v1.30.2", zone: index === 1 ? B : A, ready: index < readyCount })),
    images: Object.fromEntries(ids.map((id) => [id, "ami-new"])),
  };
}

/** The group as the pass reads it; `template` null for a group without a launch template. */
function observed(world: ReturnType<typeof oldWorld>, size: GroupSize, template: AutoScalingGroupInfo["launchTemplate"] | null = { id: "lt-1", version: "1" }, eksOptimizedAmi?: string | null): RollObservation {
  const members = new Map(world.nodes.map((member) => [member.spec!.providerID!.split("/").pop()!, member]));
  const group: AutoScalingGroupInfo = { name: "legacy", size, instances: world.instances, subnetIds: [], tags: {}, ...(template ? { launchTemplate: template } : {}) };
  return { group, members, images: world.images, ...(eksOptimizedAmi !== undefined ? { eksOptimizedAmi } : {}) };
}

function settings(overrides: Partial<RollSettings> = {}): RollSettings {
  return {
    groupName: "legacy",
    version: "1.30",
    newWorkAllowed: true,
    now: T0,
    maxSurge: 1,
    maxUnavailable: 1,
    maxParallelNodes: 2,
    drain: { timeout: "30m", timeoutMs: 30 * 60_000, onTimeout: "Wait", allowForceDelete: false },
    orderKey: "upgrade-uid",
    ...overrides,
  };
}

/** A group not yet started on this hop. */
function pending(overrides: Partial<NodeGroupStatus> = {}): NodeGroupStatus {
  return { name: "legacy", kind: "SelfManaged", total: 3, upgraded: 0, inFlight: 0, state: "Pending", targetVersion: "1.30", ...overrides };
}

/** A group whose template version 2 (ami-new) exists and that the group points at. */
function rolling(overrides: Partial<NodeGroupStatus> = {}): NodeGroupStatus {
  return pending({
    state: "InProgress",
    originalSize: { ...ORIGINAL },
    originalLaunchTemplate: { id: "lt-1", version: "1" },
    launchTemplateToken: "token-1",
    launchTemplateVersion: "2",
    imageId: "ami-new",
    ...overrides,
  });
}

const POINTED = { id: "lt-1", version: "2" };

/** Only the fields a row names are compared, so each row says what matters in its situation. */
function assertChosen(action: RollAction | NodeAction, expected: Record<string, unknown>, situation: string): void {
  const picked = Object.fromEntries(Object.keys(expected).map((key) => [key, (action as Record<string, unknown>)[key]]));
  assert.deepEqual(picked, expected, `${situation}: chose ${JSON.stringify(action)}`);
}

describe("self-managed roll planner: the group's next action", () => {
  const rows: { situation: string; entry: NodeGroupStatus; seen: RollObservation; settings?: Partial<RollSettings>; expect: Record<string, unknown> }[] = [
    // Before the template version exists.
    {
      situation: "every kubelet at the hop's version, no AMI to compare: already rolled, sized from the group",
      entry: pending(),
      seen: observed(rolledWorld(), ORIGINAL),
      expect: { kind: "MarkRolled", total: 3 },
    },
    {
      situation: "kubelets at the version but on another AMI than the spec names: not rolled",
      entry: pending(),
      seen: observed({ ...rolledWorld(), images: { "i-4": "ami-old", "i-5": "ami-new", "i-6": "ami-new" } }, ORIGINAL),
      settings: { specImage: "ami-new" },
      expect: { kind: "MintTemplateToken", size: ORIGINAL, template: { id: "lt-1", version: "1" } },
    },
    {
      situation: "nothing old but a node still in flight from an earlier pass: not counted as rolled",
      entry: pending({ nodes: [{ name: "node-i-9", instanceId: "i-9", phase: "Terminating", since: minutesBefore(1) }] }),
      seen: observed(rolledWorld(), ORIGINAL),
      settings: { specImage: "ami-new" },
      expect: { kind: "MintTemplateToken" },
    },
    {
      situation: "old nodes, paused or outside the window: nothing starts",
      entry: pending(),
      seen: observed(oldWorld(), ORIGINAL),
      settings: { newWorkAllowed: false, specImage: "ami-new" },
      expect: { kind: "HoldBeforeStart" },
    },
    {
      situation: "old nodes, group without a launch template",
      entry: pending(),
      seen: observed(oldWorld(), ORIGINAL, null),
      expect: {
        kind: "Fail",
        message: "Auto Scaling group legacy does not launch from a launch template (launch configurations and mixed-instance policies without one are not rolled)",
        remediation: "move the group to a launch template, or exclude it in spec.nodeGroups.exclude and roll it yourself",
      },
    },
    {
      situation: "old nodes, no AMI in the spec, none looked up yet",
      entry: pending(),
      seen: observed(oldWorld(), ORIGINAL),
      expect: { kind: "LookUpAmi" },
    },
    {
      situation: "old nodes, no AMI in the spec, EC2 publishes none for the version",
      entry: pending(),
      seen: observed(oldWorld(), ORIGINAL, { id: "lt-1", version: "1" }, null),
      expect: {
        kind: "Fail",
        message: "no AMI known for Kubernetes 1.30: none given in the spec and no EKS-optimized AMI found by name",
        remediation: 'set spec.nodeGroups.selfManaged[autoScalingGroupName=legacy].amiIdsByVersion["1.30"] (or amiId for the target version)',
      },
    },
    {
      situation: "old nodes, the spec's AMI, no token yet: the token is recorded before any EC2 call",
      entry: pending(),
      seen: observed(oldWorld(), ORIGINAL),
      settings: { specImage: "ami-new" },
      expect: { kind: "MintTemplateToken", size: ORIGINAL, template: { id: "lt-1", version: "1" } },
    },
    {
      situation: "old nodes, the looked-up AMI, token recorded: create (or find) the version",
      entry: pending({ launchTemplateToken: "token-1" }),
      seen: observed(oldWorld(), ORIGINAL, { id: "lt-1", version: "1" }, "ami-eks"),
      expect: { kind: "CreateTemplateVersion", imageId: "ami-eks", size: ORIGINAL, template: { id: "lt-1", version: "1" } },
    },
    // The template version exists.
    {
      situation: "the group still launches the old version",
      entry: rolling(),
      seen: observed(oldWorld(), ORIGINAL),
      expect: { kind: "PointGroupAtTemplate", templateId: "lt-1", templateVersion: "2" },
    },
    {
      situation: "nodes in flight while paused: they are finished first",
      entry: rolling({ nodes: [{ name: "node-i-1", instanceId: "i-1", phase: "Draining", since: minutesBefore(2) }] }),
      seen: observed(surgedWorld(), SURGED, POINTED),
      settings: { newWorkAllowed: false },
      expect: { kind: "AdvanceNodes" },
    },
    {
      situation: "three old nodes, group at its original size: surge one before draining two",
      entry: rolling(),
      seen: observed(oldWorld(), ORIGINAL, POINTED),
      expect: { kind: "Surge", from: 3, wave: { surge: 1, drain: 2, size: SURGED } },
    },
    {
      situation: "once the roll has its AMI, a node at the hop's kubelet on another AMI is old",
      entry: rolling(),
      seen: observed({ ...rolledWorld(), images: { "i-4": "ami-old", "i-5": "ami-new", "i-6": "ami-new" } }, ORIGINAL, POINTED),
      expect: { kind: "Surge", from: 3, wave: { surge: 1, drain: 1, size: SURGED } },
    },
    {
      situation: "surged, maxUnavailable 0, the new instance has no node yet",
      entry: rolling(),
      seen: observed(surgedWorld(null), SURGED, POINTED),
      settings: { maxUnavailable: 0 },
      expect: { kind: "AwaitNewNodes", waiting: "i-4" },
    },
    {
      situation: "surged, maxUnavailable 0, the new node is not Ready",
      entry: rolling(),
      seen: observed(surgedWorld(node("i-4", { kubelet: "v1.30.2", zone: B, ready: false })), SURGED, POINTED),
      settings: { maxUnavailable: 0 },
      expect: { kind: "AwaitNewNodes", waiting: "i-4" },
    },
    {
      situation: "surged, maxUnavailable 0, the new instance not listed yet",
      entry: rolling(),
      seen: observed(oldWorld(), SURGED, POINTED),
      settings: { maxUnavailable: 0 },
      expect: { kind: "AwaitNewNodes", waiting: "1 instance(s) still launching" },
    },
    {
      situation: "new node not Ready for exactly the limit: still waiting",
      entry: rolling({ waitingForNodesSince: minutesBefore(NEW_NODES_READY_TIMEOUT_MS / 60_000) }),
      seen: observed(surgedWorld(null), SURGED, POINTED),
      settings: { maxUnavailable: 0 },
      expect: { kind: "AwaitNewNodes" },
    },
    {
      situation: "new node not Ready past the limit, nothing in flight: fail",
      entry: rolling({ waitingForNodesSince: minutesBefore(16) }),
      seen: observed(surgedWorld(null), SURGED, POINTED),
      settings: { maxUnavailable: 0 },
      expect: {
        kind: "Fail",
        message: "new instances have no Ready node after 15 minutes (i-4); no old node drains until they join",
        remediation:
          "check the AMI, the launch template's user data, the instance profile and the security groups (EKS would report NodeCreationFailure); the roll goes on by itself once the nodes are Ready, or abort it with spec.abort",
      },
    },
    {
      situation: "between waves while paused, mid-surge: back to the original size",
      entry: rolling(),
      seen: observed(surgedWorld(), SURGED, POINTED),
      settings: { newWorkAllowed: false },
      expect: { kind: "HoldBetweenWaves", oldLeft: 3, restore: true, original: ORIGINAL },
    },
    {
      situation: "between waves while paused, at the original size: just wait",
      entry: rolling(),
      seen: observed(oldWorld(), ORIGINAL, POINTED),
      settings: { newWorkAllowed: false },
      expect: { kind: "HoldBetweenWaves", oldLeft: 3, restore: false },
    },
    {
      situation: "every old node replaced, group still surged",
      entry: rolling(),
      seen: observed(rolledWorld(), SURGED, POINTED),
      expect: { kind: "RestoreSize", original: ORIGINAL },
    },
    {
      situation: "original size, one node not Ready yet",
      entry: rolling(),
      seen: observed(rolledWorld(2), ORIGINAL, POINTED),
      expect: { kind: "AwaitReadyAtOriginalSize", missing: 1 },
    },
    {
      situation: "original size, every node Ready",
      entry: rolling(),
      seen: observed(rolledWorld(), ORIGINAL, POINTED),
      expect: { kind: "Complete" },
    },
    {
      situation: "the only old node left was skipped after its drain timed out",
      entry: rolling({ skippedNodes: ["node-i-1"] }),
      seen: observed({ instances: [instance("i-1"), ...rolledWorld().instances.slice(1)], nodes: [node("i-1"), ...rolledWorld().nodes.slice(1)], images: { "i-1": "ami-old", "i-5": "ami-new", "i-6": "ami-new" } }, ORIGINAL, POINTED),
      expect: { kind: "Complete" },
    },
  ];

  for (const row of rows) {
    it(row.situation, () => {
      const entry = structuredClone(row.entry);
      assertChosen(planRoll(entry, row.seen, settings(row.settings)), row.expect, row.situation);
      assert.deepEqual(entry, row.entry, "the planner changes no status");
    });
  }

  it("new nodes Ready: cordons a batch spread over zones, protects the new node, and picks the same batch every time", () => {
    const seen = observed(surgedWorld(), SURGED, POINTED);
    const action = planRoll(rolling(), seen, settings());
    assert.equal(action.kind, "CordonWave");
    if (action.kind !== "CordonWave") return;
    assert.deepEqual(action.protect, ["i-4"]);
    assert.equal(action.after, 1);
    assert.deepEqual(action.batch.map((chosen) => chosen.zone).sort(), [A, B], "one node from each zone before a second from zone a");
    assert.ok(action.batch.some((chosen) => chosen.name === "node-i-2" && chosen.instanceId === "i-2"));
    for (const chosen of action.batch) assert.equal(chosen.name, `node-${chosen.instanceId}`);
    // A restarted operator sees the same world and status: it must choose the same nodes.
    assert.deepEqual(planRoll(rolling(), observed(surgedWorld(), SURGED, POINTED), settings()), action);
  });

  describe("the pipeline: a freed slot starts the next old node at once", () => {
    const draining = (name: string, instanceId: string): NodeInFlight => ({ name, instanceId, phase: "Draining", since: minutesBefore(1) });
    const advanced = (seen: RollObservation): RollObservation => ({ ...seen, advanced: true });

    it("moves the nodes in flight once per pass before anything else", () => {
      const entry = rolling({ nodes: [draining("node-i-1", "i-1")] });
      assert.equal(planRoll(entry, observed(surgedWorld(), SURGED, POINTED), settings()).kind, "AdvanceNodes");
      assert.notEqual(planRoll(entry, advanced(observed(surgedWorld(), SURGED, POINTED)), settings()).kind, "AdvanceNodes");
    });

    it("a node draining, a new one Ready and room under maxUnavailable: cordons the next old node, never the one in flight", () => {
      const entry = rolling({ nodes: [draining("node-i-1", "i-1")] });
      const action = planRoll(entry, advanced(observed(surgedWorld(), SURGED, POINTED)), settings({ maxParallelNodes: 3 }));
      assert.equal(action.kind, "CordonWave");
      if (action.kind !== "CordonWave") return;
      assert.equal(action.batch.length, 1, "1 Ready new + 2 serving old - (3 - 1) = one slot");
      assert.ok(!action.batch.some((chosen) => chosen.name === "node-i-1"));
      assert.deepEqual(action.protect, ["i-4"]);
      assert.equal(action.after, 1);
    });

    it("capacity at its floor with a node draining: waits for it instead of cordoning another", () => {
      const entry = rolling({ nodes: [draining("node-i-1", "i-1")] });
      const action = planRoll(entry, advanced(observed(surgedWorld(node("i-4", { kubelet: "v1.30.2", zone: B, ready: false })), SURGED, POINTED)), settings({ maxUnavailable: 0 }));
      assert.equal(action.kind, "AwaitInFlight");
    });

    it("the parallel limit reached: waits, whatever the capacity", () => {
      const entry = rolling({ nodes: [draining("node-i-1", "i-1"), draining("node-i-2", "i-2")] });
      const action = planRoll(entry, advanced(observed(surgedWorld(), SURGED, POINTED)), settings({ maxParallelNodes: 2, maxSurge: 1, maxUnavailable: 1 }));
      assert.equal(action.kind, "AwaitInFlight");
    });

    it("after a termination with decrement: surges again for the old nodes still to go", () => {
      // i-1 terminated (desired 4 -> 3); two old nodes remain, so the surge of one stays.
      const world = surgedWorld();
      world.instances = world.instances.map((member) => (member.id === "i-1" ? { ...member, lifecycleState: "Terminating" } : member));
      const entry = rolling({ nodes: [{ name: "node-i-1", instanceId: "i-1", phase: "Terminating", since: minutesBefore(0) }] });
      const action = planRoll(entry, advanced(observed(world, { min: 2, max: 4, desired: 3 }, POINTED)), settings());
      assertChosen(action, { kind: "Surge", from: 3 }, "re-surge");
      if (action.kind === "Surge") assert.equal(action.wave.size.desired, 4);
    });

    it("the last old nodes in flight, none left to start: waits for them, no further surge", () => {
      const world = rolledWorld();
      world.instances.push(instance("i-1"));
      world.nodes.push(node("i-1"));
      world.images["i-1"] = "ami-old";
      const entry = rolling({ nodes: [draining("node-i-1", "i-1")] });
      assert.equal(planRoll(entry, advanced(observed(world, SURGED, POINTED)), settings()).kind, "AwaitInFlight");
    });

    it("paused with a node in flight: finishes it and starts nothing", () => {
      const entry = rolling({ nodes: [draining("node-i-1", "i-1")] });
      assert.equal(planRoll(entry, advanced(observed(surgedWorld(), SURGED, POINTED)), settings({ newWorkAllowed: false, maxParallelNodes: 3 })).kind, "AwaitInFlight");
    });
  });

  it("counts progress from the original size: replaced nodes, never more than the total", () => {
    assert.deepEqual(rollCounts(rolling(), observed(surgedWorld(), SURGED, POINTED), settings()), { total: 3, upgraded: 1 });
    assert.deepEqual(rollCounts(rolling(), observed({ ...rolledWorld(), nodes: [...rolledWorld().nodes, node("i-7", { kubelet: "v1.30.2" })], instances: [...rolledWorld().instances, instance("i-7")] }, SURGED, POINTED), settings()), {
      total: 3,
      upgraded: 3,
    });
  });
});

describe("self-managed roll planner: one node in flight", () => {
  const hold = (evictionDenied = false): PodHold => ({ pod: "shop/web-1", heldBy: "PodDisruptionBudget shop/web allows 0 disruption(s) now", ...(evictionDenied ? { evictionDenied } : {}) });
  const inFlight = (phase: NodeInFlight["phase"], minutesAgo: number, podsLeft?: PodHold[]): NodeInFlight => ({ name: "node-i-1", instanceId: "i-1", phase, since: minutesBefore(minutesAgo), ...(podsLeft ? { podsLeft } : {}) });
  const cordoned = node("i-1", { unschedulable: true });
  const drainAfter = (onTimeout: RollSettings["drain"]["onTimeout"], allowForceDelete = false): Partial<RollSettings> => ({ drain: { timeout: "30m", timeoutMs: 30 * 60_000, onTimeout, allowForceDelete } });
  const rows: { situation: string; node: NodeInFlight; live: V1Node | undefined; member: GroupInstance | undefined; settings?: Partial<RollSettings>; expect: NodeAction }[] = [
    { situation: "its node object is gone", node: inFlight("Draining", 5), live: undefined, member: instance("i-1"), expect: { kind: "Gone" } },
    { situation: "cordoned, someone uncordoned it: cordon again and drain", node: inFlight("Cordoned", 0), live: node("i-1"), member: instance("i-1"), expect: { kind: "Drain", cordonAgain: true, timedOut: false, deleteRemaining: false } },
    { situation: "draining within the timeout", node: inFlight("Draining", 29), live: cordoned, member: instance("i-1"), expect: { kind: "Drain", cordonAgain: false, timedOut: false, deleteRemaining: false } },
    { situation: "past the timeout, onTimeout Wait: keep draining", node: inFlight("Draining", 31), live: cordoned, member: instance("i-1"), expect: { kind: "Drain", cordonAgain: false, timedOut: true, deleteRemaining: false } },
    { situation: "past the timeout, onTimeout SkipNode", node: inFlight("Draining", 31), live: cordoned, member: instance("i-1"), settings: drainAfter("SkipNode"), expect: { kind: "Skip", cordonAgain: false } },
    {
      situation: "past the timeout, onTimeout DeletePods with allowForceDelete: delete what is left",
      node: inFlight("Draining", 31, [hold()]),
      live: cordoned,
      member: instance("i-1"),
      settings: drainAfter("DeletePods", true),
      expect: { kind: "Drain", cordonAgain: false, timedOut: true, deleteRemaining: true },
    },
    {
      situation: "past the timeout, DeletePods without allowForceDelete: keep draining",
      node: inFlight("Draining", 31, [hold()]),
      live: cordoned,
      member: instance("i-1"),
      settings: drainAfter("DeletePods"),
      expect: { kind: "Drain", cordonAgain: false, timedOut: true, deleteRemaining: false },
    },
    {
      situation: "past the timeout, DeletePods, but an eviction was denied: never delete",
      node: inFlight("Draining", 31, [hold(true)]),
      live: cordoned,
      member: instance("i-1"),
      settings: drainAfter("DeletePods", true),
      expect: { kind: "Drain", cordonAgain: false, timedOut: true, deleteRemaining: false },
    },
    { situation: "drained, instance in service: terminate with decrement", node: inFlight("Drained", 3), live: cordoned, member: instance("i-1"), expect: { kind: "Terminate", call: true } },
    { situation: "drained, instance already Terminating (restart after the call): no second call", node: inFlight("Drained", 3), live: cordoned, member: instance("i-1", A, "Terminating:Wait"), expect: { kind: "Terminate", call: false } },
    { situation: "drained, instance no longer in the group", node: inFlight("Drained", 3), live: cordoned, member: undefined, expect: { kind: "Terminate", call: false } },
    { situation: "terminating, instance has left the group", node: inFlight("Terminating", 3), live: cordoned, member: undefined, expect: { kind: "Left" } },
    { situation: "terminating for exactly the limit", node: inFlight("Terminating", TERMINATION_TIMEOUT_MS / 60_000), live: cordoned, member: instance("i-1", A, "Terminating:Wait"), expect: { kind: "AwaitLeaving" } },
    {
      situation: "terminating past the limit: stuck, naming the instance, its state and the minutes",
      node: inFlight("Terminating", 91),
      live: cordoned,
      member: instance("i-1", A, "Terminating:Wait"),
      expect: {
        kind: "Stuck",
        message: "instance i-1 (node-i-1) has been Terminating:Wait for 91 minutes since the operator terminated it",
        remediation:
          "look at i-1's lifecycle hooks and scaling activities in Auto Scaling group legacy (complete or abandon a hook that waits); the roll goes on by itself once the instance has left",
      },
    },
  ];
  for (const row of rows) {
    it(row.situation, () => {
      assert.deepEqual(planNode(row.node, row.live, row.member, settings(row.settings)), row.expect);
    });
  }

  const pass = (overrides: Partial<DrainPassResult>): DrainPassResult => ({ drained: false, podsLeft: [], evicted: [], deleted: [], blockedByPolicy: false, denied: [], ...overrides });
  it("reads a drain pass: denied evictions fail, a timed-out drain says it keeps waiting, an empty node is drained", () => {
    const draining = inFlight("Draining", 31);
    assert.deepEqual(judgeDrain(draining, pass({ denied: [{ pod: "shop/web-1", reason: "HTTP 403: forbidden" }], podsLeft: [hold(true)] }), true, settings()), {
      kind: "Denied",
      message: "eviction denied on node-i-1: shop/web-1 (HTTP 403: forbidden)",
      remediation:
        "let the operator evict these pods (RBAC: create on pods/eviction; or the admission webhook or policy that denies it); the drain goes on by itself once the eviction is allowed, and the timeout never deletes a denied pod",
    });
    assert.deepEqual(judgeDrain(draining, pass({ podsLeft: [hold()] }), false, settings()), { kind: "Undrained" });
    assert.deepEqual(judgeDrain(draining, pass({ podsLeft: [hold()] }), true, settings()), { kind: "Undrained", message: "drain past its 30m timeout; spec.drain.onTimeout Wait keeps waiting" });
    assert.deepEqual(judgeDrain(draining, pass({ drained: true }), true, settings()), { kind: "Drained" });
  });

  it("settles a wave: gone and skipped nodes leave it, failures fail it with every reason once, the rest keep it draining", () => {
    const nodes = [inFlight("Terminating", 1), inFlight("Draining", 1, [hold()]), { ...inFlight("Drained", 1), name: "node-i-3" }];
    nodes[1] = { ...nodes[1], name: "node-i-2" };
    const same = { failure: "f", remediation: "r" };
    assert.deepEqual(settleWave(nodes, ["done", "skipped", "done"]), { remaining: [], verdict: { kind: "Clear" } });
    assert.deepEqual(settleWave(nodes, ["done", "waiting", "done"]), {
      remaining: [nodes[1]],
      verdict: { kind: "Draining", message: "draining node-i-2 has 1 pod(s) left (shop/web-1: PodDisruptionBudget shop/web allows 0 disruption(s) now)" },
    });
    const outcomes: NodeOutcome[] = ["waiting", { failure: "a", remediation: "r" }, same];
    assert.deepEqual(settleWave(nodes, outcomes), { remaining: nodes, verdict: { kind: "Fail", message: "a; f", remediation: "r" } });
  });
});

describe("self-managed roll planner: hops and the spec", () => {
  it("starts a new hop afresh but keeps what the group must be given back", () => {
    const entry = rolling({ nodes: [], skippedNodes: ["node-i-1"], message: "m", upgraded: 3, targetVersion: "1.29", state: "Succeeded", previousLaunchTemplate: { id: "lt-1", version: "0" } });
    startHop(entry, "1.30");
    assert.deepEqual(entry, { name: "legacy", kind: "SelfManaged", total: 3, upgraded: 0, inFlight: 0, state: "Pending", targetVersion: "1.30", originalSize: ORIGINAL, originalLaunchTemplate: { id: "lt-1", version: "1" } });
    const same = rolling();
    startHop(same, "1.30");
    assert.deepEqual(same, rolling(), "the same hop changes nothing");
  });

  it("turns a rolled group around for a rollback: the earlier template version is the target, the nodes on the newer AMI or minor are the old ones", () => {
    const done = rolling({ state: "Succeeded", upgraded: 3, previousLaunchTemplate: { id: "lt-1", version: "1" } });
    delete done.originalSize;
    delete done.originalLaunchTemplate;
    startRollback(done, { version: "1.29", launchTemplate: { id: "lt-1", version: "1" }, imageId: "ami-old" }, { size: ORIGINAL, launchTemplate: POINTED });
    assert.deepEqual(done, {
      name: "legacy",
      kind: "SelfManaged",
      total: 3,
      upgraded: 0,
      inFlight: 0,
      state: "InProgress",
      targetVersion: "1.29",
      originalSize: ORIGINAL,
      originalLaunchTemplate: POINTED,
      launchTemplateVersion: "1",
      imageId: "ami-old",
    });
    const back = settings({ version: "1.29" });
    // Pointed at version 2 still: point it back at version 1, nothing created.
    assertChosen(planRoll(done, observed(rolledWorld(), ORIGINAL, POINTED), back), { kind: "PointGroupAtTemplate", templateId: "lt-1", templateVersion: "1" }, "turned around");
    // Pointed back: every node on ami-new is old, and the pipeline surges first, as forward.
    assertChosen(planRoll(done, observed(rolledWorld(), ORIGINAL, { id: "lt-1", version: "1" }), back), { kind: "Surge" }, "pointed back");
    assert.deepEqual(rollCounts(done, observed(rolledWorld(), ORIGINAL), back), { total: 3, upgraded: 0 });
    // Without the AMIs (instances not described yet), the kubelet's minor tells: 1.30 is newer than 1.29.
    const unknown = { ...rolledWorld(), images: {} };
    assert.deepEqual(rollCounts(done, observed(unknown, ORIGINAL), back), { total: 3, upgraded: 0 });
    // All back on ami-old at the original size and Ready: complete.
    assertChosen(planRoll(done, observed(oldWorld(), ORIGINAL, { id: "lt-1", version: "1" }), back), { kind: "Complete" }, "all back");

    // A forward roll cut short keeps what it recorded: its original template is the rollback's target.
    const cut = rolling({ originalSize: { min: 2, max: 3, desired: 3 }, nodes: [{ name: "node-i-1", phase: "Draining", since: T0.toISOString() }] });
    startRollback(cut, { version: "1.29", launchTemplate: { id: "lt-1", version: "1" }, imageId: "ami-old" }, { size: SURGED, launchTemplate: POINTED });
    assert.deepEqual([cut.originalSize, cut.originalLaunchTemplate, cut.nodes], [ORIGINAL, { id: "lt-1", version: "1" }, undefined]);
  });

  it("takes the AMI from amiIdsByVersion, amiId only for the target version, else none", () => {
    const groups = [{ autoScalingGroupName: "legacy", amiId: "ami-target", amiIdsByVersion: { "1.30": "ami-130" } }];
    assert.equal(amiFromSpec(groups, "1.31", "legacy", "1.30"), "ami-130");
    assert.equal(amiFromSpec(groups, "1.31", "legacy", "1.31"), "ami-target");
    assert.equal(amiFromSpec([{ autoScalingGroupName: "legacy", amiId: "ami-target" }], "1.31", "legacy", "1.30"), undefined);
    assert.equal(amiFromSpec(groups, "1.31", "other", "1.30"), undefined);
  });

  it("moves a group in every hop unless skew is allowed and its kubelets stay close enough", () => {
    const hops = [{ version: "1.30" }, { version: "1.31" }, { version: "1.32" }] as never[];
    assert.equal(rollsInHop(hops, 0, "v1.29.8", false, 2), true);
    assert.equal(rollsInHop(hops, 0, "v1.29.8", true, 2), false, "1.31 is two minors from 1.29");
    assert.equal(rollsInHop(hops, 1, "v1.29.8", true, 2), true, "1.32 is three minors from 1.29");
    assert.equal(rollsInHop(hops, 2, "v1.29.8", true, 2), true, "the last hop always");
  });
});
