/**
 * In-process ordering of writes to one file.
 *
 * Every call takes a sequence number when it is made. Writes to one file
 * (keyed by the canonical target path) run one at a time in sequence order;
 * a write that finds a newer one already committed skips its rename (the
 * newer content wins, as if applied in call order). Synchronous writes cannot
 * wait, so they run at once; one that replaces the whole file marks itself
 * committed, which makes older pending asynchronous writes skip.
 */

/** A queued write: resolves to true if it renamed, false if it was skipped. */
export type WriteTask = (isSuperseded: () => boolean) => Promise<boolean>;

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface Batch<P> {
  sequence: number;
  payload: P;
  waiters: Waiter[];
  /** The options of its calls: only calls of the same shape join it. */
  shape: unknown;
  /** Keys under which new calls may still join it. */
  aliases: string[];
}

interface FileState {
  /** Settles when the last queued write for this file settles. */
  tail: Promise<unknown>;
  /** Queued or running writes. */
  active: number;
  /** Sequence number of the newest committed write. */
  committed: number;
  /** The coalescing batch that has not started yet, if any. */
  batch?: Batch<unknown>;
}

/** Orders writes per file; one instance serves the whole process. */
export class WriteScheduler {
  /** Whether calls with these two option shapes may share one write. */
  readonly #sameShape: (a: unknown, b: unknown) => boolean;

  constructor(sameShape: (a: unknown, b: unknown) => boolean) {
    this.#sameShape = sameShape;
  }

  #sequence = 0;
  /** Enqueueing happens in call order even though resolving is parallel. */
  #gate: Promise<void> = Promise.resolve();
  #unqueued = 0;
  #files = new Map<string, FileState>();
  /** Coalescing batches not yet started, by their keys. */
  #joinable = new Map<string, Batch<unknown>>();

  /** The next call's sequence number. */
  nextSequence(): number {
    return ++this.#sequence;
  }

  #state(key: string): FileState {
    let state = this.#files.get(key);
    if (!state) {
      state = { tail: Promise.resolve(), active: 0, committed: 0 };
      this.#files.set(key, state);
    }
    return state;
  }

  /** Files that went idle while calls were not yet queued. */
  #idle = new Set<string>();

  /**
   * Forgets an idle file, unless a call not yet queued could still need it
   * (its newest committed write): then it is forgotten with the next file
   * that goes idle once no call is unqueued. Only idle files are visited,
   * so that 1,000 files going idle cost 1,000 steps, not a scan each.
   */
  #forgetIdle(key: string): void {
    this.#idle.add(key);
    if (this.#unqueued > 0) return;
    for (const idle of this.#idle) {
      if (this.#files.get(idle)?.active === 0) this.#files.delete(idle);
    }
    this.#idle.clear();
  }

  /** Waits until every earlier call is queued, then gives this call's key. */
  async #turn(key: Promise<string>): Promise<string> {
    this.#unqueued++;
    const previous = this.#gate;
    let release!: () => void;
    this.#gate = new Promise((resolve) => release = resolve);
    try {
      await previous;
      return await key;
    } finally {
      this.#unqueued--;
      release();
    }
  }

  #enqueue(
    key: string,
    sequence: () => number,
    task: WriteTask,
    onStart?: () => void,
  ): Promise<boolean> {
    const state = this.#state(key);
    state.active++;
    const run = state.tail.then(async () => {
      onStart?.();
      const isSuperseded = () => state.committed > sequence();
      if (isSuperseded()) return false;
      const renamed = await task(isSuperseded);
      if (renamed) state.committed = Math.max(state.committed, sequence());
      return renamed;
    });
    state.tail = run.then(() => {}, () => {}).finally(() => {
      state.active--;
      if (state.active === 0) this.#forgetIdle(key);
    });
    return run;
  }

  /**
   * Queues a write behind earlier writes to the same file. Resolves to
   * whether it renamed (false: a newer write had already committed).
   */
  async submit(
    sequence: number,
    key: Promise<string>,
    task: WriteTask,
  ): Promise<boolean> {
    const resolvedKey = await this.#turn(key);
    return await this.#enqueue(resolvedKey, () => sequence, task);
  }

  /**
   * Joins a coalescing batch that has not started, if one was queued under
   * the key `name` with options of the same `shape`: the new payload
   * replaces the batch's (`drop` releases the old one) and the caller waits
   * for that batch; `alias`, if given, becomes another key of the batch.
   * Cheap, so that a burst of calls costs little more than the one write it
   * becomes. Returns undefined if there is no such batch.
   */
  joinCoalesced<P>(
    name: string,
    shape: unknown,
    sequence: number,
    payload: P,
    drop: (payload: P) => void,
    alias?: string,
  ): Promise<void> | undefined {
    const batch = this.#joinable.get(name) as Batch<P> | undefined;
    if (!batch || !this.#sameShape(batch.shape, shape)) return undefined;
    if (alias && !batch.aliases.includes(alias)) {
      this.#joinable.set(alias, batch);
      batch.aliases.push(alias);
    }
    return new Promise<void>((resolve, reject) => {
      this.#merge(batch, sequence, payload, drop);
      batch.waiters.push({ resolve, reject });
    });
  }

  /** Offers a payload to a batch: the newest one is the one written. */
  #merge<P>(
    batch: Batch<P>,
    sequence: number,
    payload: P,
    drop: (payload: P) => void,
  ): void {
    if (sequence > batch.sequence) {
      drop(batch.payload);
      batch.payload = payload;
      batch.sequence = sequence;
    } else {
      drop(payload);
    }
  }

  #forgetAliases(batch: Batch<unknown>): void {
    for (const alias of batch.aliases) {
      if (this.#joinable.get(alias) === batch) this.#joinable.delete(alias);
    }
    batch.aliases = [];
  }

  /**
   * Queues a coalescing write as a new batch, joinable under the keys
   * `names` until it starts. If, once its file is known, a batch of the same
   * shape for that file (queued under other keys) is still waiting, the two
   * merge.
   */
  submitCoalesced<P>(
    sequence: number,
    shape: unknown,
    names: string[],
    key: Promise<string>,
    payload: P,
    drop: (payload: P) => void,
    run: (payload: P, isSuperseded: () => boolean) => Promise<boolean>,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const batch: Batch<P> = {
        sequence,
        payload,
        waiters: [{ resolve, reject }],
        shape,
        aliases: [...names],
      };
      for (const name of names) this.#joinable.set(name, batch);
      // Read when settling: callers that joined meanwhile are included.
      const resolveAll = () => batch.waiters.forEach((w) => w.resolve());
      const rejectAll = (error: unknown) =>
        batch.waiters.forEach((w) => w.reject(error));
      this.#turn(key).then((resolvedKey) => {
        const state = this.#state(resolvedKey);
        const waiting = state.batch as Batch<P> | undefined;
        if (waiting && this.#sameShape(waiting.shape, shape)) {
          this.#merge(waiting, batch.sequence, batch.payload, drop);
          waiting.waiters.push(...batch.waiters);
          for (const name of batch.aliases) {
            this.#joinable.set(name, waiting);
            waiting.aliases.push(name);
          }
          return;
        }
        state.batch = batch;
        this.#enqueue(
          resolvedKey,
          () => batch.sequence,
          (isSuperseded) => run(batch.payload, isSuperseded),
          () => {
            // From here on, newer writes start a new batch.
            if (state.batch === batch) state.batch = undefined;
            this.#forgetAliases(batch);
          },
        ).then(resolveAll, rejectAll);
      }, (error) => {
        this.#forgetAliases(batch);
        rejectAll(error);
      });
    });
  }

  /**
   * Runs a synchronous write now. One that replaces the whole file
   * (`supersedes`) is marked committed, so that older pending writes skip;
   * an append or a createNew is not: those writes still run after it, since
   * skipping them would lose data that the newer write did not replace.
   */
  runSync<T>(
    key: string,
    sequence: number,
    write: () => T,
    supersedes: boolean,
  ): T {
    const result = write();
    const state = this.#state(key);
    if (supersedes) state.committed = Math.max(state.committed, sequence);
    if (state.active === 0) this.#forgetIdle(key);
    return result;
  }
}
