/**
 * Who wrote a temp file, so that `cleanupTemps` can tell a dead writer's temp
 * file from a live one's. A backend names the writer (its capability
 * `tempOwner`): a process on Linux names itself `TAG-PID-START`
 * (`_process_owner.ts`); in a browser the writer holds a Web Lock per temp
 * file instead and names itself `web-lock` (`backends/opfs.ts`). Elsewhere
 * (no `/proc`, no permission to read it) names carry no owner and
 * `cleanupTemps` goes by age. This file holds only what the browser needs
 * too, so that browser bundles carry none of the `/proc` code.
 */

/** The owner a browser writer puts in its temp names (see `opfs.ts`). */
export const WEB_LOCK_OWNER = "web-lock";

/** `TAG-PID-START` in base 32. */
export const PROCESS_OWNER = /^([0-9a-v]{8})-([0-9a-v]{1,7})-([0-9a-v]{1,13})$/;

/**
 * The owner part of a temp name `.NAME.OWNER.RANDOM.atomic-tmp` (or of a
 * path ending in one), or undefined for a name without one (older versions,
 * or no identity).
 */
export function ownerOfTempName(name: string): string | undefined {
  const match =
    /\.([0-9a-v]{8}-[0-9a-v]{1,7}-[0-9a-v]{1,13}|web-lock)\.[0-9a-v]{16}\.atomic-tmp$/
      .exec(name);
  return match?.[1];
}
