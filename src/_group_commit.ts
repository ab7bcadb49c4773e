/**
 * Group commit of directory fsyncs: concurrent durable writes into one
 * directory share fsyncs instead of each paying its own.
 *
 * A write asks for a directory fsync after its rename. An fsync that is
 * already running may have started before that rename, so it proves
 * nothing for this write: the write waits for the NEXT fsync of the
 * directory, which starts when the running one ends and serves every write
 * that asked meanwhile. Each promise so resolves only after an fsync that
 * started after its own rename.
 *
 * Writes that will ask announce themselves when they start (`expect`). While
 * some of those that started before the first waiter asked have not asked
 * yet, the next fsync waits for them, at most `MAX_WAIT_MS`: 100 writes
 * that start together then share one or two fsyncs instead of a chain of
 * them, each of which would also slow the file fsyncs still running (they
 * share the journal). Writes that start later are not waited for, so that a
 * steady stream of writes cannot hold an fsync back.
 */

/** How long an fsync may wait for announced writes that have not asked. */
export const MAX_WAIT_MS = 10;

interface Round {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

interface DirectoryState {
  /** The fsync in flight, if any. */
  running?: Promise<void>;
  /** The writes waiting for the next fsync, if any. */
  next?: Round;
  /** How the next fsync is made (the latest asker's backend). */
  fsync?: () => Promise<void>;
  /** Announced writes that have not asked yet, by ticket. */
  expected: Set<number>;
  /** The next write's ticket. */
  nextTicket: number;
  /** Tickets below this started before the next fsync's first waiter. */
  waitBelow: number;
  /** Ends the wait for those writes. */
  timer?: ReturnType<typeof setTimeout>;
}

function round(): Round {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/** Shares directory fsyncs between the writes of one process. */
export class DirectorySyncs {
  #directories = new Map<string, DirectoryState>();

  #state(directory: string): DirectoryState {
    let state = this.#directories.get(directory);
    if (!state) {
      state = { expected: new Set(), nextTicket: 0, waitBelow: 0 };
      this.#directories.set(directory, state);
    }
    return state;
  }

  /**
   * A write into `directory` started that will ask for its fsync; returns
   * its ticket for `sync` or `forget`.
   */
  expect(directory: string): number {
    const state = this.#state(directory);
    const ticket = state.nextTicket++;
    state.expected.add(ticket);
    return ticket;
  }

  /** An announced write ended without asking (it failed or was skipped). */
  forget(directory: string, ticket: number): void {
    const state = this.#state(directory);
    state.expected.delete(ticket);
    this.#advance(directory, state);
  }

  /**
   * Resolves after an fsync of `directory` (made with `fsync`) that started
   * after this call; rejects with that fsync's error. `ticket`: what
   * `expect` gave this write, if it announced itself.
   */
  sync(
    directory: string,
    fsync: () => Promise<void>,
    ticket?: number,
  ): Promise<void> {
    const state = this.#state(directory);
    if (ticket !== undefined) state.expected.delete(ticket);
    state.fsync = fsync;
    if (!state.next) {
      state.next = round();
      state.waitBelow = state.nextTicket;
    }
    const { promise } = state.next;
    this.#advance(directory, state);
    return promise;
  }

  /** Starts the next fsync if it is due, or arms the end of its wait. */
  #advance(directory: string, state: DirectoryState): void {
    if (state.running) return; // Its end calls this again.
    if (!state.next) {
      if (state.expected.size === 0) this.#directories.delete(directory);
      return;
    }
    if (this.#waitingFor(state)) {
      state.timer ??= setTimeout(() => {
        state.timer = undefined;
        if (!state.running && state.next) this.#start(directory, state);
      }, MAX_WAIT_MS);
      return;
    }
    this.#start(directory, state);
  }

  /** Whether a write that started before the first waiter has not asked. */
  #waitingFor(state: DirectoryState): boolean {
    for (const ticket of state.expected) {
      if (ticket < state.waitBelow) return true;
    }
    return false;
  }

  #start(directory: string, state: DirectoryState): void {
    clearTimeout(state.timer);
    state.timer = undefined;
    const waiting = state.next!;
    state.next = undefined;
    let running: Promise<void>;
    try {
      running = Promise.resolve(state.fsync!());
    } catch (error) {
      running = Promise.reject(error);
    }
    state.running = running;
    const settled = () => {
      state.running = undefined;
      this.#advance(directory, state);
    };
    running.then(settled, settled);
    running.then(waiting.resolve, waiting.reject);
  }
}

/** One group commit for the process: every entry point's writes share it. */
export const directorySyncs: DirectorySyncs = new DirectorySyncs();
