/** Turns every accepted input type into bytes, without copying where possible. */

import { describe } from "./_path.ts";

/** The data of one write, classified once before anything is touched. */
export type DataSource =
  | {
    kind: "bytes";
    bytes: Uint8Array;
    /** The length at the call: the write checks the buffer still has it. */
    byteLength: number;
  }
  | { kind: "blob"; blob: Blob }
  | { kind: "iterator"; iterator: Iterator<unknown> }
  | {
    kind: "async-iterator";
    iterator: AsyncIterator<unknown>;
    /** Releases the input when the write fails or is superseded. */
    cancel(reason: unknown): void;
  };

const encoder = new TextEncoder();

/** Classifies `data`; throws a TypeError for anything unsupported. */
export function toDataSource(data: unknown, name = "data"): DataSource {
  if (typeof data === "string") {
    const bytes = encoder.encode(data);
    return { kind: "bytes", bytes, byteLength: bytes.byteLength };
  }
  const bytes = viewAsBytes(data, name);
  if (bytes) return { kind: "bytes", bytes, byteLength: bytes.byteLength };
  if (typeof Blob !== "undefined" && data instanceof Blob) {
    return { kind: "blob", blob: data };
  }
  if (typeof ReadableStream !== "undefined" && data instanceof ReadableStream) {
    const reader = data.getReader();
    return {
      kind: "async-iterator",
      iterator: {
        next: () => reader.read() as Promise<IteratorResult<unknown>>,
      },
      cancel: (reason) => {
        reader.cancel(reason).catch(() => {});
      },
    };
  }
  if (isObject(data) && Symbol.asyncIterator in data) {
    const iterator = (data as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    return {
      kind: "async-iterator",
      iterator,
      cancel: () => {
        iterator.return?.()?.catch?.(() => {});
      },
    };
  }
  if (isObject(data) && Symbol.iterator in data) {
    return {
      kind: "iterator",
      iterator: (data as Iterable<unknown>)[Symbol.iterator](),
    };
  }
  throw new TypeError(
    `Expected "${name}" to be a string, ArrayBuffer, ArrayBufferView, Blob, ` +
      `ReadableStream or (async) iterable of Uint8Array or string chunks, ` +
      `got ${describe(data)}`,
  );
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

/**
 * Whether a buffer was detached (transferred): its views then read as
 * empty. `detached` is ES2024; Node 20 lacks it, but cannot make a view of a
 * detached buffer either.
 */
function isDetached(buffer: ArrayBufferLike): boolean {
  const flag = (buffer as { detached?: unknown }).detached;
  if (typeof flag === "boolean") return flag;
  if (buffer.byteLength !== 0 || !(buffer instanceof ArrayBuffer)) {
    return false;
  }
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * The bytes of an ArrayBuffer or view, honouring offset and length; a
 * TypeError for a detached buffer, which would otherwise write nothing.
 */
function viewAsBytes(data: unknown, name = "chunk"): Uint8Array | undefined {
  const buffer = ArrayBuffer.isView(data)
    ? data.buffer
    : data instanceof ArrayBuffer
    ? data
    : undefined;
  if (buffer && isDetached(buffer)) {
    throw new TypeError(
      `Expected "${name}" to have readable bytes, got a view of a detached ArrayBuffer (transferred elsewhere)`,
    );
  }
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (
    data instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== "undefined" &&
      data instanceof SharedArrayBuffer)
  ) {
    return new Uint8Array(data);
  }
  return undefined;
}

/**
 * Encodes a sequence of chunks. A string chunk that ends in the first half
 * of a surrogate pair keeps it for the next chunk, so a character split
 * across chunks is still written as one valid UTF-8 sequence.
 */
export class ChunkEncoder {
  #pendingHighSurrogate = "";

  /** Throws the TypeError `encode` would throw for this chunk, if any. */
  check(chunk: unknown): void {
    if (typeof chunk !== "string") this.#bytesOf(chunk);
  }

  #bytesOf(chunk: unknown): Uint8Array {
    const bytes = viewAsBytes(chunk);
    if (!bytes) {
      throw new TypeError(
        `Expected every chunk to be a Uint8Array or string, got ${
          describe(chunk)
        }`,
      );
    }
    return bytes;
  }

  /** The bytes of one chunk; throws a TypeError for an unsupported chunk. */
  encode(chunk: unknown): Uint8Array {
    if (typeof chunk === "string") {
      let text = this.#pendingHighSurrogate + chunk;
      this.#pendingHighSurrogate = "";
      const last = text.charCodeAt(text.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) {
        this.#pendingHighSurrogate = text.slice(-1);
        text = text.slice(0, -1);
      }
      return encoder.encode(text);
    }
    const bytes = this.#bytesOf(chunk);
    if (this.#pendingHighSurrogate === "") return bytes;
    const pending = encoder.encode(this.#pendingHighSurrogate);
    this.#pendingHighSurrogate = "";
    const joined = new Uint8Array(pending.length + bytes.length);
    joined.set(pending);
    joined.set(bytes, pending.length);
    return joined;
  }

  /** Bytes still held back at the end of the input (a lone surrogate). */
  flush(): Uint8Array {
    const rest = this.#pendingHighSurrogate;
    this.#pendingHighSurrogate = "";
    return encoder.encode(rest);
  }
}
