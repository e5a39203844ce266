/** Pulling filter modules from OCI registries (docs/OCI.md). */
export { MAX_PULL_SECRET_BYTES, type PullSecretSource } from "./pull-secret";
export { type OciPullStatus, type OciResolution, OciResolver, type OciResolverOptions, type OciSource, type PullPolicy } from "./resolver";
export { type OciReference, parseOciReference } from "../../vocabulary/oci-reference";
