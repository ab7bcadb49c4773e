/**
 * Draws `bench/chart.svg` from the results: one panel per target of issue 13
 * (grouped bars per runtime and file system, the target as a dashed line),
 * plus the OPFS rows where `bench/opfs_results.json` exists. Plain string
 * building, no dependencies.
 */

import {
  filesystemLabel,
  type OpfsRow,
  OURS,
  PLAIN,
  type RuntimeResults,
} from "./_results.ts";
import { checkTargets, isStream, opfsLimit } from "./_targets.ts";

/** One group of bars (a runtime on a file system, an engine). */
interface Group {
  label: string;
  values: (number | undefined)[];
  /** The bound for this group's bars. */
  target: number;
}

/** One chart panel: a ratio per series per group. */
interface Panel {
  title: string;
  series: string[];
  groups: Group[];
  lowerIsBetter: boolean;
}

const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1"];
const WIDTH = 760;
const PANEL_HEIGHT = 230;
const MARGIN = { left: 48, right: 16, top: 44, bottom: 44 };

function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

function text(
  x: number,
  y: number,
  content: string,
  attributes = "",
): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${
    escape(content)
  }</text>`;
}

/** A scale top that is a multiple of 0.25 above every value and target. */
function scaleTop(panel: Panel): number {
  const values = panel.groups.flatMap((group) => [
    group.target,
    ...group.values.filter((value): value is number => value !== undefined),
  ]);
  return Math.ceil(Math.max(...values) * 1.12 / 0.25) * 0.25;
}

function drawPanel(panel: Panel, top: number): string {
  const parts: string[] = [];
  const plotTop = top + MARGIN.top;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const plotLeft = MARGIN.left;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const max = scaleTop(panel);
  const y = (value: number) => plotTop + plotHeight * (1 - value / max);
  parts.push(
    text(
      plotLeft,
      top + 18,
      `${panel.title} (${
        panel.lowerIsBetter ? "lower is better" : "higher is better"
      })`,
      'font-weight="bold"',
    ),
  );
  // Legend on the second line of the heading.
  let legendX = plotLeft;
  for (const [index, name] of panel.series.entries()) {
    parts.push(
      `<rect x="${legendX}" y="${top + 26}" width="10" height="10" fill="${
        COLORS[index]
      }"/>`,
      text(legendX + 14, top + 35, name),
    );
    legendX += 24 + name.length * 6.5;
  }
  parts.push(
    `<line x1="${legendX}" y1="${top + 31}" x2="${legendX + 18}" y2="${
      top + 31
    }" stroke="#c00" stroke-dasharray="4 3"/>`,
    text(legendX + 22, top + 35, "target"),
  );
  const step = max <= 1.5 ? 0.25 : max <= 3 ? 0.5 : 1;
  for (let tick = 0; tick <= max + 1e-9; tick += step) {
    parts.push(
      `<line x1="${plotLeft}" y1="${y(tick).toFixed(1)}" x2="${
        plotLeft + plotWidth
      }" y2="${y(tick).toFixed(1)}" stroke="#ddd"/>`,
      text(
        plotLeft - 6,
        y(tick) + 4,
        `${tick.toFixed(2)}x`,
        'text-anchor="end"',
      ),
    );
  }
  const groupWidth = plotWidth / panel.groups.length;
  const barWidth = Math.min(
    36,
    (groupWidth - 16) / panel.series.length,
  );
  for (const [groupIndex, group] of panel.groups.entries()) {
    const groupLeft = plotLeft + groupIndex * groupWidth;
    const barsLeft = groupLeft +
      (groupWidth - barWidth * panel.series.length) / 2;
    for (const [index, value] of group.values.entries()) {
      if (value === undefined) continue;
      const x = barsLeft + index * barWidth;
      const missed = panel.lowerIsBetter
        ? value > group.target
        : value < group.target;
      parts.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${y(value).toFixed(1)}" width="${
          (barWidth - 2).toFixed(1)
        }" height="${(y(0) - y(value)).toFixed(1)}" fill="${COLORS[index]}"/>`,
        text(
          x + barWidth / 2,
          y(value) - 3,
          value.toFixed(2),
          `text-anchor="middle" font-size="10"${missed ? ' fill="#c00"' : ""}`,
        ),
      );
    }
    parts.push(
      `<line x1="${(groupLeft + 4).toFixed(1)}" y1="${
        y(group.target).toFixed(1)
      }" x2="${(groupLeft + groupWidth - 4).toFixed(1)}" y2="${
        y(group.target).toFixed(1)
      }" stroke="#c00" stroke-dasharray="4 3"/>`,
      text(
        groupLeft + groupWidth / 2,
        plotTop + plotHeight + 16,
        group.label,
        'text-anchor="middle"',
      ),
    );
  }
  parts.push(
    `<line x1="${plotLeft}" y1="${y(0)}" x2="${plotLeft + plotWidth}" y2="${
      y(0)
    }" stroke="#333"/>`,
  );
  return parts.join("\n");
}

/** The lowest plain ÷ ours over the rows of one kind (throughput ratio). */
function lowestThroughput(
  results: RuntimeResults,
  kind: "replace" | "stream",
): number | undefined {
  const values = results.rows.filter((row) =>
    row.bytes !== undefined && row.bytes > 2 ** 20 &&
    isStream(row) === (kind === "stream")
  ).map((row) => row.cells[PLAIN].milliseconds / row.cells[OURS].milliseconds);
  return values.length ? Math.min(...values) : undefined;
}

/** The panels for the file system runs and the OPFS rows. */
export function chartPanels(
  all: RuntimeResults[],
  opfs: OpfsRow[] | undefined,
): Panel[] {
  const label = (results: RuntimeResults) =>
    `${results.version.split(" ")[0]} ${filesystemLabel(results)}`;
  const worst = (results: RuntimeResults, id: string) =>
    checkTargets(results).find((check) => check.id === id)?.worst;
  const panels: Panel[] = [
    {
      title: "1 KiB replace, ours ÷ fastest npm package, worst of none/file",
      series: ["async API", "sync API"],
      groups: all.map((results) => ({
        label: label(results),
        values: [worst(results, "npm-async"), worst(results, "npm-sync")],
        target: 0.8,
      })),
      lowerIsBetter: true,
    },
    {
      title: 'Concurrent 1 KiB writes at "full", ours ÷ floor',
      series: ["100 files, 1 directory", "1000 files, 10 directories"],
      groups: all.map((results) => ({
        label: label(results),
        values: [worst(results, "floor-100"), worst(results, "floor-1000")],
        target: 1.05,
      })),
      lowerIsBetter: true,
    },
    {
      title: "Large writes, throughput ÷ plain write, worst durability",
      series: ["large replace", "stream"],
      groups: all.map((results) => ({
        label: label(results),
        values: [
          lowestThroughput(results, "replace"),
          lowestThroughput(results, "stream"),
        ],
        target: 0.9,
      })),
      lowerIsBetter: false,
    },
  ];
  if (opfs?.length) {
    const engines = [...new Set(opfs.map((row) => row.engine))];
    const sizes = [...new Set(opfs.map((row) => row.size))].sort((a, b) =>
      a - b
    );
    for (const size of sizes) {
      const of = (engine: string, context: string) =>
        opfs.find((row) =>
          row.engine === engine && row.context === context && row.size === size
        );
      panels.push({
        title: `OPFS ${
          size >= 2 ** 20 ? `${size / 2 ** 20} MiB` : `${size / 1024} KiB`
        } save, atomic ÷ plain createWritable()`,
        series: ["page", "worker"],
        groups: engines.map((engine) => {
          const rows = [of(engine, "page"), of(engine, "worker")];
          const any = rows.find((row) => row !== undefined)!;
          return {
            label: `${engine} ${any.version}`,
            values: rows.map((row) => row?.ratio),
            target: opfsLimit(any),
          };
        }),
        lowerIsBetter: true,
      });
    }
  }
  return panels.filter((panel) =>
    panel.groups.some((group) =>
      group.values.some((value) => value !== undefined)
    )
  );
}

/** The whole SVG document. */
export function renderChart(
  all: RuntimeResults[],
  opfs: OpfsRow[] | undefined,
  caption: string,
): string {
  const panels = chartPanels(all, opfs);
  const height = panels.length * PANEL_HEIGHT + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12" fill="#222">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...panels.map((panel, index) => drawPanel(panel, index * PANEL_HEIGHT)),
    text(MARGIN.left, height - 10, caption, 'font-size="11" fill="#555"'),
    "</svg>",
    "",
  ].join("\n");
}
