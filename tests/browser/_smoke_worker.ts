/** Dedicated worker side of `_smoke.ts`: smokes the bundle it is sent. */

import { smoke } from "./_smoke_cases.ts";

onmessage = async (event) => {
  try {
    postMessage(await smoke(event.data, "worker"));
  } catch (error) {
    postMessage(String(error));
  }
};
