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
  const backend: Backend = name === "in-place"
    ? createInPlaceBackend()
    : createBackend(name as BackendName);
  return subjectFor(name, backend);
}
