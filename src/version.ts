/** The package version; a test keeps it equal to deno.json and package.json. */
export const VERSION = "0.1.0";
