/** The issues a config text raises, and a config around one filter: for the config and YAML tests. */
import { parseConfig } from "../../src/config/parse";
import { ConfigError } from "../../src/errors";

/** The issues of the ConfigError that parsing `text` throws. */
export function issues(text: string): readonly string[] {
  try {
    parseConfig(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

/** A config with one http filter, one listener and one cluster, with `filterYaml` as the filter's fields. */
export function withFilter(filterYaml: string): string {
  return `
filters:
  - name: f
    kind: http
${filterYaml
  .split("\n")
  .map((l) => `    ${l}`)
  .join("\n")}
listeners:
  - name: l
    address: 127.0.0.1:10000
    http: { filters: [f], routes: [{ prefix: /, cluster: c }] }
clusters:
  - { name: c, endpoints: ["127.0.0.1:8080"] }
`;
}
