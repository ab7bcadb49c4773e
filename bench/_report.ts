/**
 * Renders benchmark results as markdown: per runtime and file system the
 * tables and target checks of RESULTS.md, the OPFS rows, and the compact
 * target table of the README.
 */

import {
  type Cell,
  filesystemLabel,
  FLOOR,
  INLINE,
  NPM,
  type OpfsRow,
  OURS,
  PLAIN,
  type RuntimeResults,
} from "./_results.ts";
import {
  type Check,
  checkLine,
  checkTargets,
  fastestNpm,
  formatWorst,
  isBurst,
  isStream,
  opfsLimit,
  ratio,
} from "./_targets.ts";

/** Milliseconds in a readable unit. */
export function formatTime(milliseconds: number): string {
  if (milliseconds < 1) return `${(milliseconds * 1000).toFixed(0)} µs`;
  if (milliseconds < 10) return `${milliseconds.toFixed(2)} ms`;
  if (milliseconds < 1000) return `${milliseconds.toFixed(0)} ms`;
  return `${(milliseconds / 1000).toFixed(2)} s`;
}

function table(header: string[], lines: string[][], textColumns = 2): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => i < textColumns ? "---" : "--:").join("|")}|`,
    ...lines.map((line) => `| ${line.join(" | ")} |`),
  ].join("\n");
}

/** "Deno 2.9.6 on xfs" */
export function runLabel(results: RuntimeResults): string {
  return `${results.version} on ${filesystemLabel(results)}`;
}

function mainTable(results: RuntimeResults): string {
  const rows = results.rows.filter((row) => !isStream(row) && !isBurst(row));
  const floors = rows.some((row) => row.cells[FLOOR]);
  const columns = [OURS, INLINE, ...(floors ? [FLOOR] : []), PLAIN, ...NPM];
  const lines = rows.map((row) => {
    const ours = row.cells[OURS].milliseconds;
    const npm = fastestNpm(row);
    const inline = row.cells[INLINE];
    const floor = row.cells[FLOOR];
    return [
      `${row.workload}, per ${row.unit}`,
      row.durability,
      ...columns.map((name) =>
        row.cells[name] ? formatTime(row.cells[name].milliseconds) : "—"
      ),
      npm ? `${ratio(ours / npm[1].milliseconds)} (${npm[0]})` : "— (none)",
      inline ? ratio(ours / inline.milliseconds) : "—",
      ...(floors ? [floor ? ratio(ours / floor.milliseconds) : "—"] : []),
    ];
  });
  return table(
    [
      "workload",
      "durability",
      ...columns,
      "ours ÷ fastest npm",
      "ours ÷ inline",
      ...(floors ? ["ours ÷ floor"] : []),
    ],
    lines,
  );
}

/** One line per contender for every row of one kind. */
function perContenderTable(
  results: RuntimeResults,
  kind: (row: RuntimeResults["rows"][number]) => boolean,
  header: string[],
  values: (cell: Cell) => string[],
): string {
  const lines = results.rows.filter(kind).flatMap((row) =>
    Object.entries(row.cells).map(([name, cell]) => [
      row.workload,
      row.durability,
      name,
      formatTime(cell.milliseconds),
      ...values(cell),
    ])
  );
  return lines.length ? table(header, lines, 3) : "";
}

function streamTable(results: RuntimeResults): string {
  return perContenderTable(
    results,
    isStream,
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

function burstTable(results: RuntimeResults): string {
  return perContenderTable(
    results,
    isBurst,
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

/** Per workload, the widest spread of any of its cells' rounds. */
function spreads(results: RuntimeResults): string {
  const widest = new Map<string, number>();
  for (const row of results.rows) {
    for (const cell of Object.values(row.cells)) {
      if (cell.spread === undefined) continue;
      widest.set(
        row.workload,
        Math.max(widest.get(row.workload) ?? 0, cell.spread),
      );
    }
  }
  return [...widest].map(([workload, spread]) =>
    `${workload} ${(spread * 100).toFixed(0)}%`
  ).join(", ");
}

/** The markdown section of one runtime on one file system. */
export function renderRuntime(results: RuntimeResults): string {
  const fs = results.filesystem;
  const durations = Object.entries(results.durations ?? {});
  const spread = spreads(results);
  return [
    `### ${runLabel(results)}${results.quick ? " (quick run)" : ""}`,
    "",
    ...(fs
      ? [
        `Written in \`${fs.directory}\`: ${fs.type} (${fs.options}) on ${fs.source}.`,
        "",
      ]
      : []),
    `Medians of ${results.rounds}; each cell is the time of one unit (one write, one append, 100 or 1000 concurrent writes).`,
    ...(durations.length
      ? [
        "",
        `Wall time per workload: ${
          durations.map(([id, seconds]) => `${id} ${seconds.toFixed(0)} s`)
            .join(", ")
        }.`,
      ]
      : []),
    ...(spread
      ? [
        "",
        `Widest spread of a contender's rounds ((slowest − fastest) ÷ median): ${spread}.`,
      ]
      : []),
    "",
    mainTable(results),
    "",
    ...[streamTable(results), burstTable(results)].filter(Boolean)
      .flatMap((text) => [text, ""]),
    "Targets:",
    "",
    ...checkTargets(results).map((check) => `- ${checkLine(check)}`),
    ...(results.notes.length
      ? ["", ...results.notes.map((note) => `Note: ${note}`)]
      : []),
  ].join("\n");
}

function opfsVerdict(row: OpfsRow): string {
  const limit = opfsLimit(row);
  return row.ratio <= limit ? "met" : "**MISSED**";
}

function sizeLabel(bytes: number): string {
  return bytes >= 2 ** 20 ? `${bytes / 2 ** 20} MiB` : `${bytes / 1024} KiB`;
}

/** The OPFS rows of `bench/opfs.ts` with the targets of issue 13 part 5. */
export function renderOpfs(rows: OpfsRow[]): string {
  return table(
    [
      "engine",
      "context",
      "size",
      "plain createWritable()",
      "atomic writeFile",
      "atomic ÷ plain",
      "target",
      "verdict",
    ],
    rows.map((row) => [
      `${row.engine} ${row.version}`,
      row.context,
      sizeLabel(row.size),
      formatTime(row.plainMs),
      formatTime(row.atomicMs),
      ratio(row.ratio),
      `≤ ${opfsLimit(row).toFixed(2)}x`,
      opfsVerdict(row),
    ]),
    3,
  );
}

/** Issue 13's checks, the README's columns. */
const SUMMARY_CHECKS = [
  "npm-async",
  "npm-sync",
  "floor-100",
  "floor-1000",
  "inline-room",
  "single",
  "append",
  "large",
  "memory",
];

function summaryCell(check: Check | undefined): string {
  if (!check || check.verdict === "not measured") return "—";
  const mark = { met: "✓", MISSED: "✗", "n/a": "n/a" }[check.verdict];
  return `${formatWorst(check)} ${mark}`;
}

/**
 * The README's compact table: one line per target of issue 13, one column
 * per runtime and file system (the worst ratio, ✓ met, ✗ missed), and the
 * OPFS rows below it.
 */
export function renderSummary(
  all: RuntimeResults[],
  opfs: OpfsRow[] | undefined,
): string {
  const checks = all.map(checkTargets);
  const lines = SUMMARY_CHECKS.flatMap((id) => {
    const check = checks.flat().find((check) => check.id === id);
    if (!check) return [];
    const bound = check.bound === "max" ? "≤" : "≥";
    const unit = check.unit === "MiB" ? " MiB" : "x";
    return [[
      `${check.short} (${bound} ${check.limit}${unit})`,
      ...checks.map((of) => summaryCell(of.find((check) => check.id === id))),
    ]];
  });
  const parts = [
    table(
      [
        "target (issue 13)",
        ...all.map((results) =>
          `${results.version} ${filesystemLabel(results)}`
        ),
      ],
      lines,
      1,
    ),
  ];
  if (opfs?.length) {
    const engines = [...new Set(opfs.map((row) => `${row.engine}`))];
    const sizes = [...new Set(opfs.map((row) => row.size))].sort((a, b) =>
      a - b
    );
    const opfsLines = engines.flatMap((engine) =>
      (["page", "worker"] as const).map((context) => {
        const of = opfs.filter((row) =>
          row.engine === engine && row.context === context
        );
        return [
          `${engine} ${of[0]?.version ?? ""}`.trim(),
          context,
          ...sizes.map((size) => {
            const row = of.find((row) => row.size === size);
            if (!row) return "—";
            return `${ratio(row.ratio)} ${
              row.ratio <= opfsLimit(row) ? "✓" : "✗"
            }`;
          }),
        ];
      })
    );
    parts.push(
      "",
      table(
        [
          "OPFS engine",
          "context",
          ...sizes.map((size) =>
            `atomic ÷ plain, ${sizeLabel(size)} (≤ ${
              size > 2 ** 20 ? "1.11" : "1.3, WebKit 1.5"
            })`
          ),
        ],
        opfsLines,
      ),
    );
  }
  return parts.join("\n");
}
