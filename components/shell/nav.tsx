"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { AlertsBadge } from "@/components/alerts/alerts-badge";
import type { NavItem } from "./nav-items";

export function Nav({ items }: { items: NavItem[] }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Main" className="flex flex-col gap-1">
      {items.map((item) => {
        const active = item.href === "/" ? pathname === "/" : pathname.startsWith(item.href);
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
            {item.href === "/alerts" ? <AlertsBadge /> : null}
          </Link>
        );
      })}
    </nav>
  );
}
