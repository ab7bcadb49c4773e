/** Lets child processes pick the backend the parent test is testing. */

import type { Backend } from "../src/_backend.ts";
import {
  type BackendName,
  createBackend,
  type Subject,
  subjectFor,
} from "./_helpers.ts";
import { createInPlaceBackend } from "./_in_place_backend.ts";

/** The subject named on a child's command line. */
export function childSubject(name: string): Subject {
  if (name === "in-place") return subjectFor(name, createInPlaceBackend());
  if (name.endsWith("-no-file-sync")) {
    return subjectFor(name, withoutFileSync(createBackend(baseName(name))));
  }
  return subjectFor(name, createBackend(name as BackendName));
}

function baseName(name: string): BackendName {
  return name.slice(0, -"-no-file-sync".length) as BackendName;
}

/**
 * A broken protocol for the power-cut negative control: the temp file is
 * never fsynced (the directory still is).
 */
function withoutFileSync(backend: Backend): Backend {
  return {
    ...backend,
    name: `${backend.name}-no-file-sync`,
    sync: { ...backend.sync!, sync: () => {} },
    async: { ...backend.async, sync: () => Promise.resolve() },
  };
}
