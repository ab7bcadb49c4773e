/**
 * Writes the README's options table from the option rules and their docs
 * (`src/_option_rules.ts`, `src/_option_docs.ts`), between
 * `<!-- options:start -->` and `<!-- options:end -->`, then formats the
 * README. `deno task docs` runs it; `tests/docs_test.ts` fails while the
 * README differs from them.
 */

import { optionsTable } from "../src/_option_docs.ts";

const readme = new URL("../README.md", import.meta.url);
const text = await Deno.readTextFile(readme);
const start = "<!-- options:start -->";
const end = "<!-- options:end -->";
const from = text.indexOf(start);
const to = text.indexOf(end);
if (from < 0 || to < from) throw new Error(`README lacks ${start} ... ${end}`);
await Deno.writeTextFile(
  readme,
  `${text.slice(0, from + start.length)}\n\n${optionsTable()}\n\n${
    text.slice(to)
  }`,
);
const format = new Deno.Command(Deno.execPath(), {
  args: ["fmt", "README.md"],
  cwd: new URL("..", import.meta.url),
});
if (!(await format.output()).success) throw new Error("deno fmt failed");
