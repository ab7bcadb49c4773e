/** The shape of one runtime's benchmark results (written as JSON). */

import type { Durability } from "./_baselines.ts";

/** Contender names, in table order. */
export const OURS = "atomic-write";
export const OURS_COALESCED = "atomic-write, coalesce";
export const INLINE = "inline protocol";
/**
 * The inline protocol without the directory fsync (the file fsync kept): the
 * best that sharing directory fsyncs between concurrent writes can reach.
 * Only in the concurrent rows at "full".
 */
export const FLOOR = "floor (no dir fsync)";
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
  /** (slowest − fastest) ÷ median over the rounds. */
  spread?: number;
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

/** The file system a run wrote on, as the kernel reports it. */
export interface FileSystem {
  /** Short name for headings and merging: "ext4", "xfs". */
  label: string;
  /** The file system type of the mount (findmnt FSTYPE). */
  type: string;
  /** The mount options. */
  options: string;
  /** What is mounted ("/dev/vda", "loop image on /tmp"). */
  source: string;
  /** The directory the benchmark wrote in. */
  directory: string;
}

/** Everything one runtime measured on one file system. */
export interface RuntimeResults {
  runtime: string;
  version: string;
  quick: boolean;
  rounds: string;
  rows: Row[];
  notes: string[];
  /** Missing in results written before file systems were labelled: ext4. */
  filesystem?: FileSystem;
  /** Seconds each workload took, wall clock, setup included. */
  durations?: Record<string, number>;
}

/** One OPFS measurement, as `bench/opfs.ts` writes `bench/opfs_results.json`. */
export interface OpfsRow {
  engine: string;
  version: string;
  context: "page" | "worker";
  /** Bytes per save. */
  size: number;
  /** Median milliseconds of a plain `createWritable()` save. */
  plainMs: number;
  /** Median milliseconds of this library's atomic save. */
  atomicMs: number;
  /** atomicMs ÷ plainMs. */
  ratio: number;
}

/** The file system label of a result (results from before labels: ext4). */
export function filesystemLabel(results: RuntimeResults): string {
  return results.filesystem?.label ?? "ext4";
}
