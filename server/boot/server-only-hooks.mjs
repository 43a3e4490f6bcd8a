// A module resolution hook for the gateway's own Node entry points (server/main.ts, the scripts, the bench).
// Next resolves "server-only" with the react-server condition to an empty module, and refuses it in client code;
// outside Next, Node would resolve it to the module that throws. Here it resolves as Next's server does.
export async function resolve(specifier, context, nextResolve) {
  if (specifier === "server-only") return nextResolve(specifier, { ...context, conditions: [...context.conditions, "react-server"] });
  return nextResolve(specifier, context);
}
