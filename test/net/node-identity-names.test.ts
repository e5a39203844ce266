/**
 * The names a client certificate gives for each --node-identity mode, read
 * from Node's text form of the SAN extension (`DNS:a, URI:b`), which quotes
 * a value holding a comma or a quote: such a value is one name, not two.
 * Certificates made at test time; their SANs read by node:crypto as a TLS
 * connection's peer certificate gives them.
 */
import { X509Certificate } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import { describe, expect, it } from "vitest";
import { certificateNames, nodeIdentityProblem } from "../../src/net/node-identity";
import { makeCa, makeLeaf } from "../helpers/certificates";

async function peer(options: Parameters<typeof makeLeaf>[1]): Promise<PeerCertificate> {
  const pem = await makeLeaf(await makeCa(), options);
  const x = new X509Certificate(pem.cert);
  return { subject: { CN: options.cn }, subjectaltname: x.subjectAltName ?? "" } as unknown as PeerCertificate;
}

describe("certificate names for node identity", () => {
  it("reads CN, every DNS SAN and every URI SAN, a quoted value with a comma as one name", async () => {
    const cert = await peer({ cn: "edge-1", dns: ["edge-1.mesh", "edge-1.alt"], uris: ["spiffe://mesh.test/ns/a,b/sa/edge-1", "spiffe://mesh.test/sa/edge-1"] });
    expect(certificateNames(cert, "cn")).toEqual(["edge-1"]);
    expect(certificateNames(cert, "san-dns")).toEqual(["edge-1.mesh", "edge-1.alt"]);
    expect(certificateNames(cert, "san-uri")).toEqual(["spiffe://mesh.test/ns/a,b/sa/edge-1", "spiffe://mesh.test/sa/edge-1"]);
    expect(nodeIdentityProblem("san-uri", { sslPeerCertificate: cert }, "spiffe://mesh.test/ns/a,b/sa/edge-1")).toBeUndefined();
    // Half of the quoted name is not a name.
    expect(nodeIdentityProblem("san-uri", { sslPeerCertificate: cert }, "spiffe://mesh.test/ns/a")).toMatch(/does not match/);
  });

  it("names the missing field or certificate", async () => {
    const cert = await peer({ cn: "edge-1" });
    expect(nodeIdentityProblem("san-dns", { sslPeerCertificate: cert }, "edge-1")).toBe('node id "edge-1" cannot be checked: the client certificate has no DNS subject alternative names (--node-identity san-dns)');
    expect(nodeIdentityProblem("cn", {}, "edge-1")).toBe('node id "edge-1" must match the subject CN of a client certificate (--node-identity cn), and the connection presented none');
    expect(nodeIdentityProblem("off", {}, "edge-1")).toBeUndefined();
  });
});
