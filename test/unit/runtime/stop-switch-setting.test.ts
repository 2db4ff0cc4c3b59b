import assert from "node:assert/strict";
import { configFromEnvironment, GLOBAL_STOP_CONFIGMAP } from "../../../src/main.js";

describe("STOP_SWITCH_CONFIGMAP", () => {
  it("defaults to the shipped name and takes another valid ConfigMap name", () => {
    assert.equal(configFromEnvironment({}).stopSwitchName, GLOBAL_STOP_CONFIGMAP);
    assert.equal(configFromEnvironment({ STOP_SWITCH_CONFIGMAP: "" }).stopSwitchName, GLOBAL_STOP_CONFIGMAP);
    assert.equal(configFromEnvironment({ STOP_SWITCH_CONFIGMAP: "ops-eks-upgrade-operator-stop" }).stopSwitchName, "ops-eks-upgrade-operator-stop");
  });

  it("refuses a name no ConfigMap can have, naming the variable", () => {
    for (const bad of ["Stop", "stop_switch", "-stop", "a".repeat(254)]) {
      assert.throws(() => configFromEnvironment({ STOP_SWITCH_CONFIGMAP: bad }), /STOP_SWITCH_CONFIGMAP ".*" is not a valid ConfigMap name/, bad);
    }
  });
});
