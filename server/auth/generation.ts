// A process-wide counter of changes that can alter who may do what: a token
// revoked or created, a user disabled, a role binding or a role changed, a
// host moved or removed. Anything that remembers an authentication result
// (the Docker-API proxy keeps one for up to a second) remembers the counter
// with it and throws the result away once the counter has moved, so such a
// change takes effect on the very next request.
//
// Kept on globalThis: Next's server bundle (where the console's changes
// happen) and server/main.ts's module graph (where the proxy runs) load
// separate copies of this module in the one gateway process.

const holder = globalThis as unknown as { berthAuthGeneration?: number };

export function authGeneration(): number {
  return holder.berthAuthGeneration ?? 0;
}

export function bumpAuthGeneration(): void {
  holder.berthAuthGeneration = authGeneration() + 1;
}

/** Audit actions (every change is audited) whose change can alter access. */
const ACCESS_ACTIONS = /^(tokens|users|roles|hosts|setup|auth)\./;

export function changesAccess(action: string): boolean {
  return ACCESS_ACTIONS.test(action);
}
