// What the networks and volumes pages share.

/** The server's rule for network and volume names, checked as you type. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export const NAME_HINT = "Letters, digits, _ . - (starting with a letter or digit).";

export function nameProblem(value: string): string | null {
  const v = value.trim();
  if (!v) return null;
  if (v.length > 128) return "at most 128 characters";
  return NAME.test(v) ? null : "use letters, digits, _ . - (starting with a letter or digit)";
}

/** The containers using a network or volume, or "not in use". */
export function InUse({ names }: { names: string[] }) {
  if (!names.length) return <span className="text-slate-500">not in use</span>;
  return (
    <ul className="space-y-0.5" data-testid="in-use-by">
      {names.map((n) => (
        <li key={n}>{n}</li>
      ))}
    </ul>
  );
}
