/** Runs the conformance suite against every backend this runtime can host. */

import { registerConformance } from "./_conformance.ts";
import { availableBackends, createBackend, subjectFor } from "./_helpers.ts";

for (const name of availableBackends()) {
  registerConformance(subjectFor(name, createBackend(name)));
}
