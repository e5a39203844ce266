/** A temp config folder with one guarded HTTP filter, and a wasmxds + simulated fleet around it. */
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestApp } from "../helpers/app";
import { sha256Hex } from "../../src/vocabulary/sha256";
import { FIXTURES } from "../helpers/wasm-bytes";

export interface GuardConfig {
  module: string;
  configuration?: string;
  failurePolicy?: string;
  extra?: string;
  goodAfter?: string;
}

export function guardYaml(c: GuardConfig): string {
  return `
filters:
  - name: guard
    kind: http
    module: modules/guard.wasm
    rootId: ""
    code: inline
    failurePolicy: ${c.failurePolicy ?? "FAIL_RELOAD"}
    reloadBackoff: { base: 10ms }
    configuration: ${c.configuration ?? "{}"}
    health: { goodAfter: ${c.goodAfter ?? "300ms"}, window: 30s }
${c.extra ?? ""}
listeners:
  - name: ingress
    address: 127.0.0.1:10000
    http: { filters: [guard], routes: [{ prefix: /, cluster: backend }] }
clusters:
  - { name: backend, endpoints: [127.0.0.1:8080] }
`;
}

export async function guardFolder(c: GuardConfig): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wasmxds-health-"));
  await mkdir(join(dir, "modules"));
  await setGuard(dir, c);
  return dir;
}

export async function setGuard(dir: string, c: GuardConfig): Promise<string> {
  const bytes = await readFile(join(FIXTURES, `${c.module}.wasm`));
  await writeFile(join(dir, "modules/guard.wasm"), bytes);
  await writeFile(join(dir, "wasmxds.yaml"), guardYaml(c));
  return sha256Hex(bytes);
}

export const startGuarded = startTestApp;

export async function removeFolder(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
