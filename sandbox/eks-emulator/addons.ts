/**
 * Add-ons: CreateAddon, ListAddons, DescribeAddon, UpdateAddon, DeleteAddon and
 * DescribeAddonVersions, every version checked against the catalog (addon-catalog.ts).
 */
import { randomUUID } from "node:crypto";
import { ADDON_CATALOG, defaultAddonVersion, findAddon, isCompatible, versionsFor } from "./addon-catalog.js";
import type { EmulatorContext } from "./context.js";
import { invalidParameter, invalidRequest, resourceInUse } from "./errors.js";
import { SANDBOX_ACCOUNT_ID } from "./facts.js";
import { epochSeconds, optionalString, paginate, requireString, stringMap, type Json } from "./request.js";
import { addonKey, type AddonRecord } from "./state.js";
import { finishUpdate, newUpdate, updateForToken, updateView } from "./updates.js";

export class AddonOperations {
  constructor(private readonly context: EmulatorContext) {}

  createAddon(clusterName: string, body: Json): Json {
    const { context } = this;
    const cluster = context.cluster(clusterName);
    const addonName = requireString(body, "addonName");
    if (cluster.status !== "ACTIVE") throw invalidRequest(`Cluster '${clusterName}' is not in ACTIVE status`, { clusterName, addonName });
    if (!findAddon(addonName)) throw invalidParameter(`Addon ${addonName} specified is not supported`, { clusterName, addonName });
    if (context.state.addons.has(addonKey(clusterName, addonName))) {
      throw resourceInUse(`Addon already exists with name ${addonName}`, { clusterName, addonName });
    }
    const addonVersion = optionalString(body, "addonVersion") ?? defaultAddonVersion(addonName, cluster.version);
    if (!addonVersion || !isCompatible(addonName, addonVersion, cluster.version)) {
      throw invalidParameter(
        `Addon version ${addonVersion ?? "(none)"} of ${addonName} is not supported on Kubernetes ${cluster.version}`,
        { clusterName, addonName },
      );
    }
    const now = context.deps.clock.now();
    const record: AddonRecord = {
      clusterName,
      addonName,
      addonVersion,
      arn: `arn:aws:eks:${context.deps.region}:${SANDBOX_ACCOUNT_ID}:addon/${clusterName}/${addonName}/${randomUUID().slice(0, 8)}`,
      status: context.creation.addonSeconds > 0 ? "CREATING" : "ACTIVE",
      createdAt: now,
      modifiedAt: now,
      serviceAccountRoleArn: optionalString(body, "serviceAccountRoleArn"),
      configurationValues: optionalString(body, "configurationValues"),
      tags: stringMap(body.tags),
    };
    context.state.addons.set(addonKey(clusterName, addonName), record);
    if (record.status === "CREATING") {
      context.runInBackground(`add-on ${addonName} creation`, async (signal) => {
        await context.deps.clock.sleep(context.creation.addonSeconds, signal);
        record.status = "ACTIVE";
      });
    }
    return { addon: addonView(record) };
  }

  listAddons(clusterName: string, query: URLSearchParams): Json {
    this.context.cluster(clusterName);
    const names = this.context.state.addonsOf(clusterName).map((addon) => addon.addonName).sort();
    const page = paginate(names, query);
    return { addons: page.items, nextToken: page.nextToken };
  }

  describeAddon(clusterName: string, addonName: string): Json {
    return { addon: addonView(this.context.addon(clusterName, addonName)) };
  }

  describeAddonVersions(query: URLSearchParams): Json {
    const kubernetesVersion = query.get("kubernetesVersion") ?? undefined;
    const addonName = query.get("addonName") ?? undefined;
    const entries = ADDON_CATALOG.filter((entry) => addonName === undefined || entry.addonName === addonName)
      .map((entry) => ({
        addonName: entry.addonName,
        type: entry.type,
        publisher: entry.publisher,
        owner: entry.owner,
        defaultNamespace: entry.defaultNamespace,
        addonVersions: versionsFor(entry, kubernetesVersion).map((version) => ({
          addonVersion: version.addonVersion,
          architecture: ["amd64", "arm64"],
          computeTypes: ["ec2"],
          compatibilities: version.clusterVersions
            .filter((clusterVersion) => kubernetesVersion === undefined || clusterVersion === kubernetesVersion)
            .map((clusterVersion) => ({
              clusterVersion,
              platformVersions: ["*"],
              defaultVersion: version.defaultFor.includes(clusterVersion),
            })),
          requiresConfiguration: false,
          requiresIamPermissions: entry.addonName === "vpc-cni" || entry.addonName === "aws-ebs-csi-driver",
        })),
      }))
      .filter((entry) => entry.addonVersions.length > 0);
    const page = paginate(entries, query);
    return { addons: page.items, nextToken: page.nextToken };
  }

  updateAddon(clusterName: string, addonName: string, body: Json): Json {
    const { context } = this;
    const cluster = context.cluster(clusterName);
    const addon = context.addon(clusterName, addonName);
    const token = optionalString(body, "clientRequestToken");
    const known = updateForToken(context.state, clusterName, `addon/${addonName}`, token);
    if (known) return { update: updateView(known) };
    const running = context.state.updatesOf(clusterName, { addonName }).find((update) => update.status === "InProgress");
    if (running || addon.status !== "ACTIVE") {
      throw resourceInUse(`Addon ${addonName} is currently being updated`, { clusterName, addonName });
    }
    const addonVersion = optionalString(body, "addonVersion") ?? defaultAddonVersion(addonName, cluster.version);
    if (!addonVersion || !isCompatible(addonName, addonVersion, cluster.version)) {
      throw invalidParameter(
        `Addon version ${addonVersion ?? "(none)"} of ${addonName} is not supported on Kubernetes ${cluster.version}`,
        { clusterName, addonName },
      );
    }
    const params = [{ type: "AddonVersion", value: addonVersion }];
    const resolveConflicts = optionalString(body, "resolveConflicts");
    if (resolveConflicts) params.push({ type: "ResolveConflicts", value: resolveConflicts });
    const update = newUpdate(context, clusterName, "AddonUpdate", params, token, { addonName });
    addon.status = "UPDATING";
    addon.modifiedAt = context.deps.clock.now();
    context.runInBackground(`add-on ${addonName} update`, async (signal) => {
      try {
        await context.deps.clock.sleep(cluster.addonUpdateSeconds, signal);
        addon.addonVersion = addonVersion;
        finishUpdate(context, update, "Successful", []);
      } finally {
        addon.status = "ACTIVE";
        addon.modifiedAt = context.deps.clock.now();
      }
    });
    return { update: updateView(update) };
  }

  deleteAddon(clusterName: string, addonName: string): Json {
    const addon = this.context.addon(clusterName, addonName);
    this.context.state.addons.delete(addonKey(clusterName, addonName));
    return { addon: { ...addonView(addon), status: "DELETING" } };
  }
}

function addonView(addon: AddonRecord): Json {
  return {
    addonName: addon.addonName,
    clusterName: addon.clusterName,
    status: addon.status,
    addonVersion: addon.addonVersion,
    health: { issues: [] },
    addonArn: addon.arn,
    createdAt: epochSeconds(addon.createdAt),
    modifiedAt: epochSeconds(addon.modifiedAt),
    serviceAccountRoleArn: addon.serviceAccountRoleArn,
    configurationValues: addon.configurationValues,
    tags: addon.tags,
  };
}
