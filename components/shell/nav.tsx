"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useTRPC } from "@/components/trpc/client";
import type { NavItem } from "./nav-items";

/** How often the Approvals badge reads its count again. */
const APPROVALS_REFRESH_MS = 30_000;

export function Nav({ items }: { items: NavItem[] }) {
  const pathname = usePathname();
  const approvals = useApprovalsCount(items.some((i) => i.badge === "approvals"));
  return (
    <nav aria-label="Main" className="flex flex-col gap-1">
      {items.map((item) => {
        // "/deploy" is not active on "/deployments": a path segment matches whole.
        const active = item.href === "/" ? pathname === "/" : pathname === item.href || pathname.startsWith(`${item.href}/`);
        const count = item.badge === "approvals" ? approvals : 0;
        return (
          <Link
            key={item.href}
            href={item.href}
            aria-current={active ? "page" : undefined}
            className={`flex items-center justify-between gap-2 rounded-md px-3 py-2 text-sm font-medium ${
              active
                ? "bg-sky-100 text-sky-900 dark:bg-sky-900/40 dark:text-sky-100"
                : "text-slate-700 hover:bg-slate-200/70 dark:text-slate-300 dark:hover:bg-slate-800"
            }`}
          >
            {item.label}
            {count > 0 ? (
              <span data-testid="approvals-count" className="rounded-full bg-amber-500 px-1.5 text-xs font-semibold text-white">
                {count}
                <span className="sr-only"> waiting</span>
              </span>
            ) : null}
          </Link>
        );
      })}
    </nav>
  );
}

/** The requests the viewer could decide now; 0 while unknown (a failed read shows no badge rather than a wrong one). */
function useApprovalsCount(enabled: boolean): number {
  const trpc = useTRPC();
  const count = useQuery({ ...trpc.approvals.count.queryOptions(), enabled, retry: false, refetchInterval: APPROVALS_REFRESH_MS });
  return count.data?.waiting ?? 0;
}
