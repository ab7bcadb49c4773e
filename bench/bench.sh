#!/usr/bin/env bash
# `deno task bench`: runs bench/main.ts with the project's Deno. Through bash
# because `deno task` runs a command found in node_modules/.bin as a script,
# and the npm package `deno` puts the Deno binary itself there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
exec deno run -A bench/main.ts "$@"
