/** The oci:// filter fields (docs/OCI.md): url grammar, pullSecret, pullPolicy, insecure, sha256 optional. */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { parseOciReference } from "../../src/vocabulary/oci-reference";
import { issues, withFilter } from "../helpers/config-issues";

const SHA = "a".repeat(64);
const DIGEST = `sha256:${"b".repeat(64)}`;

describe("oci:// filter fields", () => {
  it("parses the issue's example into an oci module source; pullPolicy defaults to IfNotPresent and sha256 is optional", () => {
    const config = parseConfig(
      withFilter(`url: oci://registry.example.com/filters/header-auth:v0.0.1\nsha256: ${SHA}\npullSecret: secrets/registry.json\npullPolicy: Always\ninsecure: false`),
    );
    expect(config.filters[0]?.module).toEqual({
      type: "oci",
      reference: "oci://registry.example.com/filters/header-auth:v0.0.1",
      sha256: SHA,
      pullSecret: "secrets/registry.json",
      pullPolicy: "Always",
    });
    expect(parseConfig(withFilter(`url: oci://r.example.com/x@${DIGEST}`)).filters[0]?.module).toEqual({
      type: "oci",
      reference: `oci://r.example.com/x@${DIGEST}`,
      pullPolicy: "IfNotPresent",
    });
  });

  it("names what is wrong", () => {
    expect(issues(withFilter("url: oci://r.example.com/Filters/X:v1"))).toEqual([
      'wasmxds.yaml: filters[0].url: expected a repository of lowercase components like filters/header-auth, got "Filters/X" in "oci://r.example.com/Filters/X:v1"',
    ]);
    expect(issues(withFilter("url: oci://r.example.com/x@sha256:abc"))[0]).toContain('expected a digest like @sha256:<64 lowercase hex>, got "@sha256:abc"');
    expect(issues(withFilter("url: oci://r.example.com/x:v1\npullPolicy: Never"))[0]).toMatch(/^wasmxds.yaml: filters\[0\].pullPolicy: .*IfNotPresent.*Always/);
    expect(issues(withFilter("url: oci://r.example.com/x:v1\npullSecret: ../docker.json"))).toEqual([
      'wasmxds.yaml: filters[0].pullSecret: expected a path inside the config folder, got "../docker.json", which leaves it',
    ]);
    expect(issues(withFilter(`url: https://h.example.com/m.wasm\nsha256: ${SHA}\npullPolicy: Always\npullSecret: s.json`))).toEqual([
      "wasmxds.yaml: filters[0].pullSecret: only allowed with an oci:// url",
      "wasmxds.yaml: filters[0].pullPolicy: only allowed with an oci:// url",
    ]);
  });

  it("reference grammar: registry host and port, nested repository, tag default latest, digest wins over a tag, docker.io", () => {
    expect(parseOciReference("oci://127.0.0.1:5000/a/b/c")).toEqual({ value: { text: "oci://127.0.0.1:5000/a/b/c", registry: "127.0.0.1:5000", repository: "a/b/c", tag: "latest" } });
    expect(parseOciReference(`oci://r.io/x:v1@${DIGEST}`)).toMatchObject({ value: { repository: "x", tag: "v1", digest: DIGEST } });
    expect(parseOciReference("oci://docker.io/envoy")).toMatchObject({ value: { registry: "registry-1.docker.io", repository: "library/envoy" } });
    expect(parseOciReference("oci://r.io")).toEqual({ error: 'expected oci://HOST/REPOSITORY[:TAG][@DIGEST], got "oci://r.io"' });
    expect(parseOciReference("oci://r.io/x:-bad")).toMatchObject({ error: expect.stringContaining('got "-bad"') });
  });
});
