import { register } from "node:module";

// Every module in server/ starts with `import "server-only"`, so that Next
// refuses it in client code. The gateway's entry points run outside Next: they
// call this first, then import what they run, so "server-only" resolves there
// as it does in Next's server (see server-only-hooks.mjs). Static imports
// would be resolved before this runs: entry points import their work dynamically.
let registered = false;

export function allowServerOnly(): void {
  if (registered) return;
  register(new URL("./server-only-hooks.mjs", import.meta.url));
  registered = true;
}
