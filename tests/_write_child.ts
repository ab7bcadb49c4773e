/**
 * Child process: writes ARGV[2] into ARGV[1] with backend ARGV[0]. Exits 0 on
 * success; on an AtomicWriteError prints {step, code, message} and exits 3.
 */

import process from "node:process";
import { AtomicWriteError } from "../src/errors.ts";
import { childSubject } from "./_child_backend.ts";

const [name, file, content] = process.argv.slice(2);
try {
  await childSubject(name).api.writeFile(file, content);
} catch (error) {
  if (!(error instanceof AtomicWriteError)) throw error;
  const { step, code, message } = error;
  console.log(JSON.stringify({ step, code, message }));
  process.exit(3);
}
