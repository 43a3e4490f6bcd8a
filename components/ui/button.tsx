import Link from "next/link";
import type { ButtonHTMLAttributes, ComponentProps } from "react";

// The console's buttons, and links that look like one. Disabled buttons look
// disabled in every variant; the reason sits beside them (see Reason).

export type ButtonVariant = "primary" | "secondary" | "danger" | "ghost" | "ghostDanger";
/** md: a form's button; sm: one in a table row; xs: a small one in a toolbar. */
export type ButtonSize = "md" | "sm" | "xs";

const VARIANTS: Record<ButtonVariant, string> = {
  primary: "bg-sky-600 text-white hover:bg-sky-700 disabled:bg-sky-600/50",
  secondary:
    "border border-slate-300 bg-white text-slate-800 hover:bg-slate-100 disabled:opacity-50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100 dark:hover:bg-slate-800",
  danger: "bg-rose-600 text-white hover:bg-rose-700 disabled:bg-rose-600/50",
  ghost: "text-slate-700 hover:bg-slate-200/70 disabled:opacity-50 dark:text-slate-200 dark:hover:bg-slate-800",
  ghostDanger: "text-rose-700 hover:bg-rose-50 disabled:opacity-50 dark:text-rose-400 dark:hover:bg-rose-950/40",
};

const SIZES: Record<ButtonSize, string> = {
  md: "px-3 py-2 text-sm",
  sm: "px-2 py-1 text-sm",
  xs: "px-2 py-1 text-xs",
};

/** The classes of a button, for elements that must be something else (a link, a download). */
export function buttonClass(variant: ButtonVariant = "primary", size: ButtonSize = "md", className = ""): string {
  return `inline-flex items-center justify-center gap-2 rounded-md font-medium transition-colors disabled:cursor-not-allowed ${SIZES[size]} ${VARIANTS[variant]} ${className}`;
}

export function Button({
  variant = "primary",
  size = "md",
  className = "",
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant; size?: ButtonSize }) {
  return <button type="button" {...props} className={buttonClass(variant, size, className)} />;
}

/** A link (client-side navigation) that looks like a Button. */
export function ButtonLink({
  variant = "primary",
  size = "md",
  className = "",
  ...props
}: ComponentProps<typeof Link> & { variant?: ButtonVariant; size?: ButtonSize }) {
  return <Link {...props} className={buttonClass(variant, size, className)} />;
}

/** Reads a list again on demand, and says so while it does. */
export function RefreshButton({ query }: { query: { isFetching: boolean; refetch: () => unknown } }) {
  return (
    <Button variant="ghost" disabled={query.isFetching} onClick={() => void query.refetch()}>
      {query.isFetching ? "Refreshing…" : "Refresh"}
    </Button>
  );
}
