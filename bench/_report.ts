/**
 * Renders one runtime's results as markdown tables and checks them against
 * the targets of issue 5.
 */

import {
  type Cell,
  INLINE,
  NPM,
  OURS,
  OURS_COALESCED,
  PLAIN,
  type Row,
  type RuntimeResults,
} from "./_results.ts";

/** Milliseconds in a readable unit. */
export function formatTime(milliseconds: number): string {
  if (milliseconds < 1) return `${(milliseconds * 1000).toFixed(0)} µs`;
  if (milliseconds < 10) return `${milliseconds.toFixed(2)} ms`;
  if (milliseconds < 1000) return `${milliseconds.toFixed(0)} ms`;
  return `${(milliseconds / 1000).toFixed(2)} s`;
}

function ratio(value: number): string {
  return `${value.toFixed(2)}x`;
}

/** The fastest npm package in a row: [name, cell], or undefined. */
function fastestNpm(row: Row): [string, Cell] | undefined {
  return NPM.filter((name) => row.cells[name])
    .map((name): [string, Cell] => [name, row.cells[name]])
    .sort((a, b) => a[1].milliseconds - b[1].milliseconds)[0];
}

function table(header: string[], lines: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => i < 2 ? "---" : "--:").join("|")}|`,
    ...lines.map((line) => `| ${line.join(" | ")} |`),
  ].join("\n");
}

const isStream = (row: Row) => row.unit === "stream";
const isBurst = (row: Row) => row.unit === "burst";

function mainTable(rows: Row[]): string {
  const columns = [OURS, INLINE, PLAIN, ...NPM];
  const lines = rows.filter((row) => !isStream(row) && !isBurst(row)).map(
    (row) => {
      const ours = row.cells[OURS].milliseconds;
      const npm = fastestNpm(row);
      const inline = row.cells[INLINE];
      return [
        `${row.workload}, per ${row.unit}`,
        row.durability,
        ...columns.map((name) =>
          row.cells[name] ? formatTime(row.cells[name].milliseconds) : "—"
        ),
        npm ? `${ratio(ours / npm[1].milliseconds)} (${npm[0]})` : "— (none)",
        inline ? ratio(ours / inline.milliseconds) : "—",
      ];
    },
  );
  return table(
    [
      "workload",
      "durability",
      ...columns,
      "ours ÷ fastest npm",
      "ours ÷ inline",
    ],
    lines,
  );
}

/** One line per contender for every row of one kind. */
function perContenderTable(
  rows: Row[],
  header: string[],
  values: (cell: Cell) => string[],
): string {
  const lines = rows.flatMap((row) =>
    Object.entries(row.cells).map(([name, cell]) => [
      row.workload,
      row.durability,
      name,
      formatTime(cell.milliseconds),
      ...values(cell),
    ])
  );
  return table(header, lines);
}

function streamTable(rows: Row[]): string {
  return perContenderTable(
    rows.filter(isStream),
    [
      "stream",
      "durability",
      "contender",
      "time",
      "throughput",
      "peak RSS growth (memory pass)",
    ],
    (cell) => [
      `${cell.mibPerSecond!.toFixed(0)} MiB/s`,
      cell.peakGrowthMiB === undefined
        ? "—"
        : `${cell.peakGrowthMiB.toFixed(1)} MiB`,
    ],
  );
}

function burstTable(rows: Row[]): string {
  return perContenderTable(
    rows.filter(isBurst),
    [
      "burst",
      "durability",
      "contender",
      "time to settle",
      "file writes",
      "last write won",
    ],
    (cell) => [
      cell.fileWrites === undefined ? "not counted" : `${cell.fileWrites}`,
      cell.lastWriteWon ? "yes" : "**no**",
    ],
  );
}

/** One line per target: met or missed, with the numbers. */
export function checkTargets(results: RuntimeResults): string[] {
  const lines: string[] = [];
  const rows = results.rows;
  const npmMisses: string[] = [];
  const npmChecked: number[] = [];
  const inlineMisses: string[] = [];
  const inlineChecked: number[] = [];
  for (const row of rows) {
    const ours = row.cells[OURS] ?? row.cells[OURS_COALESCED];
    if (!ours) continue;
    const npm = isBurst(row)
      ? (row.cells["steno"]
        ? ["steno", row.cells["steno"]] as const
        : undefined)
      : fastestNpm(row);
    const subject = isBurst(row) ? row.cells[OURS_COALESCED] : ours;
    if (npm) {
      const value = subject.milliseconds / npm[1].milliseconds;
      npmChecked.push(value);
      if (value > 0.8) {
        npmMisses.push(
          `${row.workload} [${row.durability}] ${ratio(value)} of ${npm[0]}`,
        );
      }
    }
    const inline = row.cells[INLINE];
    if (inline) {
      const value = ours.milliseconds / inline.milliseconds;
      inlineChecked.push(value);
      if (value > 1.1) {
        inlineMisses.push(
          `${row.workload} [${row.durability}] ${ratio(value)}`,
        );
      }
    }
  }
  const verdict = (misses: string[]) => misses.length === 0 ? "met" : "MISSED";
  if (results.runtime !== "deno") {
    lines.push(
      `≤ 0.8x the fastest npm alternative at equal durability (${npmChecked.length} comparisons, worst ${
        ratio(Math.max(...npmChecked))
      }): ${verdict(npmMisses)}${
        npmMisses.length ? ` — ${npmMisses.join("; ")}` : ""
      }`,
    );
  }
  lines.push(
    `≤ 1.1x the inline protocol (${inlineChecked.length} comparisons, worst ${
      ratio(Math.max(...inlineChecked))
    }): ${verdict(inlineMisses)}${
      inlineMisses.length ? ` — ${inlineMisses.join("; ")}` : ""
    }`,
  );
  // Large: at least 64 MiB (the 256 MiB replace and the stream). At 1 MiB
  // the fixed costs of any atomic write (create, rename, directory fsync)
  // weigh in; those rows are listed for information.
  const throughput: string[] = [];
  const medium: string[] = [];
  let throughputMet = true;
  for (const row of rows) {
    if (row.bytes === undefined || row.durability === "none") continue;
    const value = row.cells[PLAIN].milliseconds / row.cells[OURS].milliseconds;
    const entry = `${row.workload} [${row.durability}] ${ratio(value)}`;
    if (row.bytes < 64 * 2 ** 20) {
      medium.push(entry);
      continue;
    }
    if (value < 0.9) throughputMet = false;
    throughput.push(entry);
  }
  lines.push(
    `large writes (≥ 64 MiB) reach ≥ 0.9x the throughput of a plain write + fsync: ${
      throughputMet ? "met" : "MISSED"
    } — ${throughput.join("; ")}${
      medium.length ? ` (for information: ${medium.join("; ")})` : ""
    }`,
  );
  const streams = rows.filter(isStream);
  if (streams.length) {
    const peaks = streams.map((row) => row.cells[OURS].peakGrowthMiB)
      .filter((peak) => peak !== undefined);
    const peak = Math.max(...peaks);
    lines.push(
      `${streams[0].workload} adds ≤ 64 MiB of peak memory: ${
        peak <= 64 ? "met" : "MISSED"
      } — at most ${peak.toFixed(1)} MiB`,
    );
  }
  for (const row of rows.filter(isBurst)) {
    const coalesced = row.cells[OURS_COALESCED];
    const sequential = row.cells[OURS];
    const speedup = sequential.milliseconds / coalesced.milliseconds;
    const met = speedup >= 50 && coalesced.lastWriteWon;
    lines.push(
      `coalesced ${row.workload} [${row.durability}] ≥ 50x faster than one by one, last write wins: ${
        met ? "met" : "MISSED"
      } — ${speedup.toFixed(0)}x, ${
        coalesced.fileWrites ?? "?"
      } file writes, last write won: ${coalesced.lastWriteWon ? "yes" : "no"}`,
    );
  }
  return lines;
}

/** The markdown section of one runtime. */
export function renderRuntime(results: RuntimeResults): string {
  return [
    `### ${results.version}${results.quick ? " (quick run)" : ""}`,
    "",
    `Medians of ${results.rounds}; each cell is the time of one unit (one write, one append, 100 concurrent writes).`,
    "",
    mainTable(results.rows),
    "",
    streamTable(results.rows),
    "",
    burstTable(results.rows),
    "",
    "Targets:",
    "",
    ...checkTargets(results).map((line) => `- ${line}`),
    ...(results.notes.length
      ? ["", ...results.notes.map((note) => `Note: ${note}`)]
      : []),
  ].join("\n");
}

function summaryCell(row: Row | undefined): string {
  if (!row) return "—";
  if (isBurst(row)) {
    const ours = row.cells[OURS_COALESCED];
    const steno = row.cells["steno"];
    const writes = ours.fileWrites === undefined
      ? ""
      : `, ${ours.fileWrites} write${ours.fileWrites === 1 ? "" : "s"}`;
    return `${formatTime(ours.milliseconds)}${writes}${
      steno ? ` · ${ratio(ours.milliseconds / steno.milliseconds)} steno` : ""
    }`;
  }
  const ours = row.cells[OURS];
  if (isStream(row)) {
    const peak = ours.peakGrowthMiB === undefined
      ? ""
      : `, +${ours.peakGrowthMiB.toFixed(0)} MiB`;
    return `${ours.mibPerSecond!.toFixed(0)} MiB/s${peak} · ${
      ratio(row.cells[PLAIN].milliseconds / ours.milliseconds)
    } plain`;
  }
  const npm = fastestNpm(row);
  const inline = row.cells[INLINE];
  return [
    formatTime(ours.milliseconds),
    npm ? `${ratio(ours.milliseconds / npm[1].milliseconds)} npm` : "",
    inline ? `${ratio(ours.milliseconds / inline.milliseconds)} inline` : "",
  ].filter(Boolean).join(" · ");
}

/**
 * One table over every runtime, for the README: this library's median per
 * workload and durability, as a ratio to the fastest npm alternative and to
 * the inline protocol (below 1 is faster).
 */
export function renderSummary(all: RuntimeResults[]): string {
  const keys: [string, string][] = [];
  for (const row of all[0]?.rows ?? []) {
    keys.push([row.workload, row.durability]);
  }
  const lines = keys.map(([workload, durability]) => [
    workload,
    durability,
    ...all.map((results) =>
      summaryCell(
        results.rows.find((row) =>
          row.workload === workload && row.durability === durability
        ),
      )
    ),
  ]);
  return table(
    ["workload", "durability", ...all.map((results) => results.version)],
    lines,
  );
}
