// The sandbox's API server evaluates CEL validation rules of CustomResourceDefinitions, as the
// operator's own CRD relies on.
import assert from "node:assert/strict";
import { ApiextensionsV1Api, CustomObjectsApi, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import { sandboxKubeConfig } from "../../support/global-sandbox.js";
import { errorBody, eventually, statusCode, uniqueName } from "./kube-helpers.js";

describe("sandbox Kubernetes: CRD validation rules", function () {
  const group = "sandbox-test.eks-upgrade-operator.dev";
  const plural = "widgets";
  const crdName = `${plural}.${group}`;
  const ruleMessage = "minReplicas must not exceed maxReplicas";
  let extensions: ApiextensionsV1Api;
  let custom: CustomObjectsApi;
  const namespace = "default";

  before(async function () {
    const kubeConfig = sandboxKubeConfig();
    extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
    custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const crd: V1CustomResourceDefinition = {
      metadata: { name: crdName },
      spec: {
        group,
        scope: "Namespaced",
        names: { plural, singular: "widget", kind: "Widget", listKind: "WidgetList" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: {
                    type: "object",
                    required: ["minReplicas", "maxReplicas"],
                    properties: { minReplicas: { type: "integer" }, maxReplicas: { type: "integer" } },
                    x_kubernetes_validations: [{ rule: "self.minReplicas <= self.maxReplicas", message: ruleMessage }],
                  },
                },
              },
            },
          },
        ],
      },
    };
    await extensions.createCustomResourceDefinition({ body: crd });
    await eventually(`CRD ${crdName} Established`, async () => {
      const current = await extensions.readCustomResourceDefinition({ name: crdName });
      return current.status?.conditions?.some((condition) => condition.type === "Established" && condition.status === "True");
    });
    // Right after Established the resource's handler may still be installing.
    await eventually(`${plural} served`, () => custom.listNamespacedCustomObject({ group, version: "v1", namespace, plural }));
  });

  after(async function () {
    await extensions.deleteCustomResourceDefinition({ name: crdName }).catch(() => undefined);
  });

  function createWidget(name: string, minReplicas: number, maxReplicas: number): Promise<unknown> {
    return custom.createNamespacedCustomObject({
      group,
      version: "v1",
      namespace,
      plural,
      body: { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name }, spec: { minReplicas, maxReplicas } },
    });
  }

  it("accepts an object that satisfies the rule", async function () {
    const name = uniqueName("good");
    await createWidget(name, 1, 3);
    const stored = (await custom.getNamespacedCustomObject({ group, version: "v1", namespace, plural, name })) as { spec?: unknown };
    assert.deepEqual(stored.spec, { minReplicas: 1, maxReplicas: 3 });
    await custom.deleteNamespacedCustomObject({ group, version: "v1", namespace, plural, name });
  });

  it("rejects an object that breaks the rule, with the rule's message", async function () {
    const name = uniqueName("bad");
    const rejection = await createWidget(name, 5, 2).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(rejection, "the invalid widget should have been rejected");
    assert.equal(statusCode(rejection), 422, errorBody(rejection));
    assert.match(errorBody(rejection), new RegExp(ruleMessage));
    const found = await custom.getNamespacedCustomObject({ group, version: "v1", namespace, plural, name }).then(
      () => true,
      (error: unknown) => (statusCode(error) === 404 ? false : Promise.reject(error as Error)),
    );
    assert.equal(found, false, "a rejected object must not be stored");
  });
});
