import "server-only";
// The REST API's per-token rate, here so the OpenAPI document and the reference page quote the limit the handler applies.

/** Per token: 20 requests a second, bursts of 40. */
export const TOKEN_RATE = { perSecond: 20, burst: 40 } as const;

export const TOKEN_RATE_DOC = `${TOKEN_RATE.perSecond} requests a second (bursts of ${TOKEN_RATE.burst})`;
