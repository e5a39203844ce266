/**
 * Small line charts in inline SVG, drawn from the samples the console has
 * taken since it was opened (the API serves counts now, not history). Each
 * series has its own dash pattern and marker as well as its colour, and its
 * label and latest value are written beside the chart, so nothing rests on
 * colour alone. Memory is bounded: SeriesStore keeps MAX_SAMPLES per series
 * and MAX_SERIES series.
 */
import { h, s } from "./dom";

export interface Point {
  readonly t: number;
  readonly v: number;
}

const MAX_SAMPLES = 300;
const MAX_SERIES = 64;
/** Shortest time span a chart shows. */
const WINDOW_MS = 60_000;

/** Samples per named series, oldest dropped first. */
export class SeriesStore {
  private readonly series = new Map<string, Point[]>();

  add(name: string, t: number, v: number): void {
    let points = this.series.get(name);
    if (!points) {
      if (this.series.size >= MAX_SERIES) this.series.delete(this.series.keys().next().value as string);
      points = [];
      this.series.set(name, points);
    }
    points.push({ t, v });
    if (points.length > MAX_SAMPLES) points.shift();
  }

  get(name: string): readonly Point[] {
    return this.series.get(name) ?? [];
  }
}

const DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 5"];
const MARKERS = ["circle", "square", "triangle", "diamond", "cross"] as const;

function marker(kind: (typeof MARKERS)[number], x: number, y: number, cls: string): SVGElement {
  switch (kind) {
    case "circle":
      return s("circle", { cx: x, cy: y, r: 3.5, class: cls });
    case "square":
      return s("rect", { x: x - 3, y: y - 3, width: 6, height: 6, class: cls });
    case "triangle":
      return s("polygon", { points: `${x},${y - 4} ${x + 4},${y + 3} ${x - 4},${y + 3}`, class: cls });
    case "diamond":
      return s("polygon", { points: `${x},${y - 4} ${x + 4},${y} ${x},${y + 4} ${x - 4},${y}`, class: cls });
    default:
      return s("path", { d: `M${x - 3},${y - 3}L${x + 3},${y + 3}M${x - 3},${y + 3}L${x + 3},${y - 3}`, class: `${cls} cross` });
  }
}

export interface ChartSeries {
  readonly label: string;
  readonly points: readonly Point[];
}

/** A figure: the chart, and a legend naming each series with its marker and latest value. */
export function lineChart(title: string, series: readonly ChartSeries[], unit: string): HTMLElement {
  const width = 420;
  const height = 140;
  const pad = { left: 36, right: 8, top: 8, bottom: 20 };
  const all = series.flatMap((x) => x.points);
  // At least the last minute, so a chart opened a second ago is not stretched over one sample.
  const t1 = Math.max(Date.now(), ...all.map((p) => p.t));
  const t0 = Math.min(t1 - WINDOW_MS, ...all.map((p) => p.t));
  const vmax = Math.max(1, ...all.map((p) => p.v));
  const x = (t: number) => pad.left + ((t - t0) / (t1 - t0)) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - v / vmax) * (height - pad.top - pad.bottom);
  const latest = series.map((ser) => `${ser.label}: ${ser.points.at(-1)?.v ?? 0} ${unit}`).join("; ");
  const svg = s(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${title}. Latest: ${latest || "no data yet"}`, class: "chart" },
    s("title", null, title),
    s("line", { x1: pad.left, y1: y(0), x2: width - pad.right, y2: y(0), class: "axis" }),
    s("line", { x1: pad.left, y1: pad.top, x2: pad.left, y2: y(0), class: "axis" }),
    s("text", { x: pad.left - 4, y: pad.top + 8, class: "tick", "text-anchor": "end" }, vmax),
    s("text", { x: pad.left - 4, y: y(0), class: "tick", "text-anchor": "end" }, 0),
    s("text", { x: width - pad.right, y: height - 4, class: "tick", "text-anchor": "end" }, "now"),
    s("text", { x: pad.left, y: height - 4, class: "tick" }, `-${Math.round((t1 - t0) / 1000)} s`),
  );
  series.forEach((ser, i) => {
    const cls = `series series-${i % 5}`;
    if (ser.points.length > 1) {
      const d = ser.points.map((p, j) => `${j === 0 ? "M" : "L"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join("");
      svg.append(s("path", { d, class: cls, fill: "none", "stroke-dasharray": DASHES[i % DASHES.length] }));
    }
    const last = ser.points.at(-1);
    if (last) svg.append(marker(MARKERS[i % MARKERS.length]!, x(last.t), y(last.v), cls));
  });
  const legend = h(
    "ul",
    { class: "legend" },
    ...series.map((ser, i) => {
      const key = s("svg", { width: 28, height: 10, "aria-hidden": "true" }, s("line", { x1: 0, y1: 5, x2: 20, y2: 5, class: `series series-${i % 5}`, "stroke-dasharray": DASHES[i % DASHES.length] }), marker(MARKERS[i % MARKERS.length]!, 22, 5, `series series-${i % 5}`));
      return h("li", null, key, ` ${ser.label}: `, h("strong", null, ser.points.at(-1)?.v ?? 0), ` ${unit}`);
    }),
  );
  return h("figure", { class: "chart-box" }, h("figcaption", null, title), svg, legend);
}
