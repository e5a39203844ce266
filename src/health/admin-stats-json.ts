/**
 * Envoy admin `GET /stats?format=json`: `{"stats":[{"name":..,"value":..},
 * ...]}`, counters and gauges alike as numbers, text readouts as strings,
 * and histograms as one `{"histograms": {...}}` element (Envoy admin docs,
 * "GET /stats?format=json"; docs/ENVOY.md "Getting stats out of Envoy").
 * Only numeric entries are read; the shape is checked, never trusted.
 */
import type { StatSample } from "./latest-stats";

/** Reads the body, failing once it passes `maxBytes` (a misconfigured address could point at anything). */
export async function readBodyBounded(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new Error(`response of ${declared} bytes is over the limit of ${maxBytes} bytes`);
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`response is over the limit of ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The numeric stats of an admin JSON body; throws with what was wrong. */
export function parseAdminStatsJson(text: string, maxStats: number): StatSample[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const stats = body !== null && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>)["stats"] : undefined;
  if (!Array.isArray(stats)) throw new Error('expected {"stats":[...]} as Envoy\'s /stats?format=json returns');
  if (stats.length > maxStats) throw new Error(`${stats.length} stats, over the limit of ${maxStats}`);
  const out: StatSample[] = [];
  for (const entry of stats) {
    if (entry === null || typeof entry !== "object") continue;
    const { name, value } = entry as Record<string, unknown>;
    if (typeof name !== "string" || name === "" || typeof value !== "number" || !Number.isFinite(value) || value < 0) continue;
    out.push({ name, type: "unknown", value });
  }
  return out;
}
