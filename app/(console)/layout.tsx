import { Nav } from "@/components/shell/nav";
import { visibleNav } from "@/components/shell/nav-items";
import { ThemeToggle } from "@/components/shell/theme-toggle";
import { TRPCReactProvider } from "@/components/trpc/client";
import { heldPermissions } from "@/server/auth/access";
import { requireViewer } from "@/server/auth/viewer";
import { signOutAction } from "./actions";

export const dynamic = "force-dynamic";

export default async function ConsoleLayout({ children }: { children: React.ReactNode }) {
  // The page beside this layout renders at the same time and asks for its viewer itself.
  const viewer = await requireViewer();
  const items = visibleNav(heldPermissions(viewer));
  const user = (
    <div className="space-y-2 border-t border-slate-200 pt-3 text-sm dark:border-slate-800">
      <div className="truncate text-slate-600 dark:text-slate-400" title={viewer.user.email}>
        {viewer.user.name ?? viewer.user.email}
      </div>
      <div className="flex items-center justify-between">
        <ThemeToggle />
        <form action={signOutAction}>
          <button
            type="submit"
            className="rounded-md px-2 py-1 text-sm text-slate-600 hover:bg-slate-200/70 dark:text-slate-300 dark:hover:bg-slate-800"
          >
            Sign out
          </button>
        </form>
      </div>
    </div>
  );
  return (
    <TRPCReactProvider>
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:p-2">
        Skip to content
      </a>
      <div className="md:flex">
        {/* Small screens: a disclosure menu; larger: a fixed sidebar. */}
        <details className="border-b border-slate-200 bg-white md:hidden dark:border-slate-800 dark:bg-slate-900">
          <summary className="cursor-pointer px-4 py-3 font-semibold">⚓ Berth — menu</summary>
          <div className="space-y-3 px-3 pb-3">
            <Nav items={items} />
            {user}
          </div>
        </details>
        <aside className="hidden w-60 shrink-0 flex-col gap-4 border-r border-slate-200 bg-white p-4 md:flex md:min-h-screen dark:border-slate-800 dark:bg-slate-900">
          <div className="px-3 text-lg font-bold tracking-tight">⚓ Berth</div>
          <div className="flex-1">
            <Nav items={items} />
          </div>
          {user}
        </aside>
        <main id="main" className="min-w-0 flex-1 p-4 md:p-8">
          {children}
        </main>
      </div>
    </TRPCReactProvider>
  );
}
