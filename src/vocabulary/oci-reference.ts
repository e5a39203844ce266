/**
 * `oci://` module references (docs/OCI.md; vocabulary, as the config checks them and wasm/oci pulls them): `oci://HOST[:PORT]/REPO[:TAG][@DIGEST]`,
 * the grammar of the distribution registry's reference package. With the
 * scheme spelled out, the first component is always the registry, so there
 * is no Docker Hub guessing; `docker.io` is mapped to the host that serves
 * its API. A reference with both a tag and a digest is pulled by digest
 * (the tag is a label), as Docker does. No tag and no digest means `latest`.
 */

export interface OciReference {
  /** The reference as written in the config. */
  readonly text: string;
  /** host[:port] of the registry API. */
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<64 hex>` or `sha512:<128 hex>`: the manifest's digest. */
  readonly digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;
const MAX_NAME = 255;

export function parseOciReference(text: string): { value: OciReference } | { error: string } {
  const quoted = JSON.stringify(text);
  if (!text.startsWith("oci://")) return { error: `expected an oci:// reference, got ${quoted}` };
  let rest = text.slice("oci://".length);
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return { error: `expected a digest like @sha256:<64 lowercase hex>, got ${JSON.stringify(`@${digest}`)} in ${quoted}` };
  }
  const slash = rest.indexOf("/");
  if (slash <= 0) return { error: `expected oci://HOST/REPOSITORY[:TAG][@DIGEST], got ${quoted}` };
  const host = rest.slice(0, slash);
  let path = rest.slice(slash + 1);
  if (!HOST.test(host)) return { error: `expected a registry host[:port], got ${JSON.stringify(host)} in ${quoted}` };
  let tag: string | undefined;
  const colon = path.lastIndexOf(":");
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) return { error: `expected a tag of letters, digits, '_', '.' and '-' (at most 128), got ${JSON.stringify(tag)} in ${quoted}` };
  }
  const components = path.split("/");
  if (path === "" || !components.every((c) => COMPONENT.test(c))) {
    return { error: `expected a repository of lowercase components like filters/header-auth, got ${JSON.stringify(path)} in ${quoted}` };
  }
  if (path.length > MAX_NAME) return { error: `expected a repository of at most ${MAX_NAME} characters in ${quoted}` };
  const registry = host === "docker.io" || host === "index.docker.io" ? "registry-1.docker.io" : host;
  const repository = registry === "registry-1.docker.io" && components.length === 1 ? `library/${path}` : path;
  return {
    value: Object.freeze({
      text,
      registry,
      repository,
      ...(tag !== undefined || digest === undefined ? { tag: tag ?? "latest" } : {}),
      ...(digest !== undefined && { digest }),
    }),
  };
}

/** What the registry is asked for: the digest when pinned, else the tag. */
export function manifestReference(ref: OciReference): string {
  return ref.digest ?? ref.tag ?? "latest";
}
