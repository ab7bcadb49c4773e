/** The errno-style code of a runtime error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code !== "") return code;
  const name = (error as { name?: unknown }).name;
  // Deno's permission error has no code; its name is the most precise label.
  if (name === "NotCapable" || name === "PermissionDenied") return name;
  return undefined;
}
