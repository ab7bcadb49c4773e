/**
 * The targets of issue 13 (parts 1 to 4) and the still-standing ones of
 * issue 5, checked against one runtime's results on one file system, as
 * data: `bench/_report.ts` renders them in RESULTS.md and the README,
 * `bench/_chart.ts` draws them.
 */

import {
  type Cell,
  FLOOR,
  INLINE,
  NPM,
  type OpfsRow,
  OURS,
  OURS_COALESCED,
  PLAIN,
  type Row,
  type RuntimeResults,
} from "./_results.ts";

/** The outcome of one target for one runtime on one file system. */
export interface Check {
  /** Stable key, also the README column. */
  id: string;
  /** Where the target comes from ("13.1", "5"). */
  issue: string;
  /** The target in words. */
  title: string;
  /** Short column header for the README. */
  short: string;
  /** The bound on the ratio: "max" means ratio ≤ limit, "min" ratio ≥ limit. */
  bound: "max" | "min";
  limit: number;
  /** "n/a": measured, but the target does not apply (see `note`). */
  verdict: "met" | "MISSED" | "n/a" | "not measured";
  /** The worst ratio over the rows checked (or shown, for "n/a"). */
  worst?: number;
  /** Unit of `worst` when it is not a ratio ("MiB"). */
  unit?: string;
  /** One entry per row checked: "1 KiB replace [none] 0.92x of steno". */
  details: string[];
  note?: string;
}

/** The fastest npm package in a row: [name, cell], or undefined. */
export function fastestNpm(row: Row): [string, Cell] | undefined {
  return NPM.filter((name) => row.cells[name])
    .map((name): [string, Cell] => [name, row.cells[name]])
    .sort((a, b) => a[1].milliseconds - b[1].milliseconds)[0];
}

export function ratio(value: number): string {
  return `${value.toFixed(2)}x`;
}

const MiB = 2 ** 20;
/** floor ÷ inline at or below this leaves room for ≤ 0.9x inline at 1.05x floor. */
const ROOM = 0.9 / 1.05;

export const isStream = (row: Row) => row.unit === "stream";
export const isBurst = (row: Row) => row.unit === "burst";
/** The large replace and the stream: more than 1 MiB per unit. */
const isLarge = (row: Row) => row.bytes !== undefined && row.bytes > MiB;

/** A check over `values` ([detail, ratio] per row) against a bound. */
function bounded(
  base: Omit<Check, "verdict" | "worst" | "details">,
  values: [string, number][],
): Check {
  if (values.length === 0) {
    return { ...base, verdict: "not measured", details: [] };
  }
  const numbers = values.map(([, value]) => value);
  const worst = base.bound === "max"
    ? Math.max(...numbers)
    : Math.min(...numbers);
  const met = base.bound === "max" ? worst <= base.limit : worst >= base.limit;
  return {
    ...base,
    verdict: met ? "met" : "MISSED",
    worst,
    details: values.map(([detail]) => detail),
  };
}

function againstNpm(rows: Row[], workload: string): [string, number][] {
  return rows.filter((row) => row.workload === workload).flatMap((row) => {
    const npm = fastestNpm(row);
    if (!npm) return [];
    const value = row.cells[OURS].milliseconds / npm[1].milliseconds;
    return [[
      `${row.durability} ${ratio(value)} of ${npm[0]}`,
      value,
    ]];
  });
}

/** Every target, in a fixed order, for one runtime on one file system. */
export function checkTargets(results: RuntimeResults): Check[] {
  const rows = results.rows;
  const checks: Check[] = [];
  checks.push(bounded({
    id: "npm-async",
    issue: "13.2",
    title:
      "1 KiB replace ≤ 0.8x the fastest npm alternative at equal durability",
    short: "1 KiB replace ÷ fastest npm",
    bound: "max",
    limit: 0.8,
  }, againstNpm(rows, "1 KiB replace")));
  checks.push(bounded({
    id: "npm-sync",
    issue: "13.2",
    title:
      "1 KiB replace, synchronous API, ≤ 0.8x the fastest npm alternative at equal durability",
    short: "1 KiB replace, sync API ÷ fastest npm",
    bound: "max",
    limit: 0.8,
  }, againstNpm(rows, "1 KiB replace, synchronous API")));

  const concurrent = rows.filter((row) => row.cells[FLOOR] && row.cells[OURS]);
  const label = (row: Row) =>
    row.workload.startsWith("1000") ? "1000 in 10 dirs" : "100 in 1 dir";
  for (
    const [id, short, prefix] of [
      ["floor-100", "100 files at full ÷ floor", "100 files"],
      ["floor-1000", "1000 files in 10 dirs at full ÷ floor", "1000 files"],
    ]
  ) {
    const row = concurrent.find((row) => row.workload.startsWith(prefix));
    const value = row &&
      row.cells[OURS].milliseconds / row.cells[FLOOR].milliseconds;
    checks.push(bounded({
      id,
      issue: "13.1",
      title: `${
        row?.workload ?? prefix
      } at "full" ≤ 1.05x the floor (inline protocol without directory fsync)`,
      short,
      bound: "max",
      limit: 1.05,
    }, row ? [[`${ratio(value!)}`, value!]] : []));
  }

  // ≤ 0.9x inline is only asked where the floor leaves room for it.
  const roomy: [string, number][] = [];
  const cramped: string[] = [];
  for (const row of concurrent) {
    const inline = row.cells[INLINE].milliseconds;
    const room = row.cells[FLOOR].milliseconds / inline;
    const value = row.cells[OURS].milliseconds / inline;
    const detail = `${label(row)} ${ratio(value)} (floor ÷ inline ${
      ratio(room)
    })`;
    if (room <= ROOM) roomy.push([detail, value]);
    else cramped.push(detail);
  }
  const inlineCheck = bounded({
    id: "inline-room",
    issue: "13.1",
    title:
      `concurrent writes at "full" ≤ 0.9x the inline protocol where floor ÷ inline ≤ ${
        ROOM.toFixed(3)
      } leaves room`,
    short: "concurrent at full ÷ inline, where the floor leaves room",
    bound: "max",
    limit: 0.9,
  }, roomy);
  if (cramped.length) {
    inlineCheck.note = `no room on this disk: ${cramped.join("; ")}`;
    if (inlineCheck.verdict === "not measured") {
      inlineCheck.verdict = "n/a";
      inlineCheck.worst = Math.max(
        ...concurrent.map((row) =>
          row.cells[OURS].milliseconds / row.cells[INLINE].milliseconds
        ),
      );
    }
  }
  checks.push(inlineCheck);

  const single = rows.find((row) =>
    row.workload === "1 KiB replace" && row.durability === "full"
  );
  const singleValue = single &&
    single.cells[OURS].milliseconds / single.cells[INLINE].milliseconds;
  checks.push(bounded({
    id: "single",
    issue: "13.1",
    title:
      'a single sequential 1 KiB write at "full" ≤ 1.05x the inline protocol',
    short: "one 1 KiB write at full ÷ inline",
    bound: "max",
    limit: 1.05,
  }, single ? [[ratio(singleValue!), singleValue!]] : []));

  // Part 3: where the file system can clone (the bench's xfs image, made
  // with mkfs.xfs's default reflink=1), an append costs O(appended bytes).
  const append = rows.find((row) =>
    row.unit === "append" && row.durability === "file"
  );
  const appendValue = append &&
    append.cells[OURS].milliseconds / append.cells[PLAIN].milliseconds;
  const appendCheck = bounded({
    id: "append",
    issue: "13.3",
    title: `${
      append?.workload ?? "append"
    } at "file" ≤ 3x a plain in-place append + fsync, where the file system clones (reflink)`,
    short: "append 1 KiB to 64 MiB at file ÷ plain append (reflink)",
    bound: "max",
    limit: 3,
  }, append ? [[ratio(appendValue!), appendValue!]] : []);
  if (append && results.filesystem?.type !== "xfs") {
    // ext4 cannot clone: the append copies the old content, as it must.
    appendCheck.verdict = "n/a";
    appendCheck.note = "no reflink on this file system: the copy path";
  }
  checks.push(appendCheck);

  checks.push(bounded(
    {
      id: "large",
      issue: "13.4",
      title:
        "large writes and streams ≥ 0.9x the throughput of a plain write at equal durability",
      short: "large write or stream, throughput ÷ plain",
      bound: "min",
      limit: 0.9,
    },
    rows.filter(isLarge).map((row) => {
      const value = row.cells[PLAIN].milliseconds /
        row.cells[OURS].milliseconds;
      return [`${row.workload} [${row.durability}] ${ratio(value)}`, value];
    }),
  ));

  const streams = rows.filter((row) =>
    isStream(row) && row.cells[OURS].peakGrowthMiB !== undefined
  );
  const peak = bounded(
    {
      id: "memory",
      issue: "13.4",
      title: `${streams[0]?.workload ?? "stream"} adds ≤ 64 MiB of peak memory`,
      short: "stream, peak memory",
      bound: "max",
      limit: 64,
      unit: "MiB",
    },
    streams.map((row) => {
      const value = row.cells[OURS].peakGrowthMiB!;
      return [`${row.durability} +${value.toFixed(1)} MiB`, value];
    }),
  );
  checks.push(peak);

  // Issue 5's bound on overhead still stands where issue 13 sets none.
  checks.push(bounded(
    {
      id: "inline",
      issue: "5",
      title:
        "≤ 1.1x the inline protocol (rows without a floor; those are issue 13.1's)",
      short: "÷ inline",
      bound: "max",
      limit: 1.1,
    },
    rows.filter((row) =>
      row.cells[OURS] && row.cells[INLINE] && !row.cells[FLOOR]
    ).map((row) => {
      const value = row.cells[OURS].milliseconds /
        row.cells[INLINE].milliseconds;
      return [`${row.workload} [${row.durability}] ${ratio(value)}`, value];
    }),
  ));
  checks.push(bounded(
    {
      id: "burst",
      issue: "5",
      title:
        "a coalesced burst ≥ 50x faster than one by one, and the last write wins",
      short: "burst speed-up",
      bound: "min",
      limit: 50,
      unit: "x",
    },
    rows.filter(isBurst).map((row) => {
      const coalesced = row.cells[OURS_COALESCED];
      const speedup = row.cells[OURS].milliseconds / coalesced.milliseconds;
      // A lost last write fails the check whatever the speed.
      const value = coalesced.lastWriteWon ? speedup : 0;
      return [
        `[${row.durability}] ${speedup.toFixed(0)}x, ${
          coalesced.fileWrites ?? "?"
        } file writes, last write won: ${
          coalesced.lastWriteWon ? "yes" : "no"
        }`,
        value,
      ];
    }),
  ));
  return checks;
}

/** The OPFS bound for an engine and size (issue 13 part 5). */
export function opfsLimit(row: OpfsRow): number {
  if (row.size > MiB) return 1 / 0.9;
  return /webkit/i.test(row.engine) ? 1.5 : 1.3;
}

/** The value of a check as text: "0.92x", "+1.9 MiB", "227x". */
export function formatWorst(check: Check): string {
  if (check.worst === undefined) return "—";
  if (check.unit === "MiB") return `+${check.worst.toFixed(1)} MiB`;
  if (check.unit === "x") return `${check.worst.toFixed(0)}x`;
  return ratio(check.worst);
}

/** One line per check, for RESULTS.md. */
export function checkLine(check: Check): string {
  const value = check.worst === undefined
    ? ""
    : ` (${check.bound === "max" ? "worst" : "lowest"} ${formatWorst(check)})`;
  const verdict = check.verdict === "MISSED" ? "**MISSED**" : check.verdict;
  const details = check.details.length ? ` — ${check.details.join("; ")}` : "";
  const note = check.note ? ` (${check.note})` : "";
  return `[${check.issue}] ${check.title}${value}: ${verdict}${details}${note}`;
}
