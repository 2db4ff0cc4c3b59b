// The AWS adapters are loaded on a port's first call, not when the operator starts.
import assert from "node:assert/strict";
import { lazyPort } from "../../../src/cloud/aws/index.js";

interface Greeter {
  greet: (name: string) => Promise<string>;
  count: () => Promise<number>;
}

describe("lazyPort", () => {
  it("loads the adapter on the first call only, and forwards every call with its arguments and this", async () => {
    let loads = 0;
    const port = lazyPort<Greeter>(() => {
      loads++;
      let calls = 0;
      return Promise.resolve({
        prefix: "hello",
        greet(this: { prefix: string }, name: string): Promise<string> {
          calls++;
          return Promise.resolve(`${this.prefix} ${name}`);
        },
        count: () => Promise.resolve(calls),
      });
    });
    assert.equal(loads, 0);
    const greet = port.greet;
    assert.equal(loads, 0, "reading a method loads nothing");
    assert.deepEqual(await Promise.all([greet("a"), port.greet("b")]), ["hello a", "hello b"]);
    assert.equal(await port.count(), 2);
    assert.equal(loads, 1);
  });

  it("tries the load again after it failed, and rejects the calls that waited on the failed one", async () => {
    let attempts = 0;
    const port = lazyPort<Greeter>(() => {
      attempts++;
      if (attempts === 1) return Promise.reject(new Error("module not found"));
      return Promise.resolve({ greet: (name: string) => Promise.resolve(name), count: () => Promise.resolve(0) });
    });
    await assert.rejects(port.greet("a"), /module not found/);
    assert.equal(await port.greet("b"), "b");
    assert.equal(attempts, 2);
  });

  it("is not a thenable, and names a member the adapter lacks", async () => {
    const port = lazyPort<Greeter & { missing(): Promise<void> }>(() => Promise.resolve({ greet: (name: string) => Promise.resolve(name), count: () => Promise.resolve(0) }) as never);
    assert.equal(await Promise.resolve(port), port);
    await assert.rejects(port.missing(), /missing is not a method of the adapter/);
  });
});
