/** The shape of one runtime's benchmark results (written as JSON). */

import type { Durability } from "./_baselines.ts";

/** Contender names, in table order. */
export const OURS = "atomic-write";
export const OURS_COALESCED = "atomic-write, coalesce";
export const INLINE = "inline protocol";
export const PLAIN = "plain write";
export const NPM = [
  "write-file-atomic",
  "atomically",
  "steno",
  "fast-write-atomic",
];

/** One contender's result in one row. */
export interface Cell {
  /** Median milliseconds per unit of work. */
  milliseconds: number;
  /** Throughput in MiB/s, for the large writes and the stream. */
  mibPerSecond?: number;
  /** Peak resident-set growth in the memory pass, for the stream. */
  peakGrowthMiB?: number;
  /** Median number of renames onto the target, for the burst. */
  fileWrites?: number;
  /** Whether the file held the last write's content after every round. */
  lastWriteWon?: boolean;
}

/** One workload at one durability level. */
export interface Row {
  workload: string;
  durability: Durability;
  /** What one unit of work is ("write", "burst", ...). */
  unit: string;
  /** Bytes written per unit, for the large writes and the stream. */
  bytes?: number;
  cells: Record<string, Cell>;
}

/** Everything one runtime measured. */
export interface RuntimeResults {
  runtime: string;
  version: string;
  quick: boolean;
  rounds: string;
  rows: Row[];
  notes: string[];
}
