import assert from "node:assert/strict";
import { externalDnsFinding, findOwnership, ownershipRecordNames } from "../../../src/bluegreen/external-dns.js";

describe("external-dns ownership of the weighted record", () => {
  it("looks where external-dns puts its TXT record: the name itself and the type-prefixed name", () => {
    assert.deepEqual(ownershipRecordNames("www.shop.example.com.", "CNAME"), ["www.shop.example.com", "cname-www.shop.example.com"]);
    assert.deepEqual(ownershipRecordNames("api.example.com", "A"), ["api.example.com", "a-api.example.com"]);
  });

  it("finds the owner in a quoted ownership value", () => {
    const ownership = findOwnership([
      { name: "www.shop.example.com", values: ['"v=spf1 -all"'] },
      { name: "cname-www.shop.example.com", values: ['"heritage=external-dns,external-dns/owner=blue-cluster,external-dns/resource=ingress/shop/storefront"'] },
    ]);
    assert.deepEqual(ownership, { txtName: "cname-www.shop.example.com", owner: "blue-cluster" });
  });

  it("ignores TXT records that are not external-dns's", () => {
    assert.equal(findOwnership([{ name: "www.shop.example.com", values: ['"google-site-verification=abc"'] }]), undefined);
  });

  it("refuses by default with how to fix it, and only warns under Coexist", () => {
    const ownership = { txtName: "cname-www.shop.example.com", owner: "blue-cluster" };
    const refused = externalDnsFinding(ownership, "www.shop.example.com", "Refuse")!;
    assert.equal(refused.severity, "Blocking");
    assert.equal(refused.code, "BG008");
    assert.match(refused.message, /managed by external-dns \(owner blue-cluster\).*cname-www\.shop\.example\.com/);
    assert.match(refused.remediation, /--policy=upsert-only.*externalDNS to Coexist/);
    assert.equal(externalDnsFinding(ownership, "www.shop.example.com", "Coexist")?.severity, "Warning");
    assert.equal(externalDnsFinding(undefined, "www.shop.example.com", "Refuse"), undefined);
  });
});
