import type { Metadata } from "next";
import { headers } from "next/headers";
import { CSP_NONCE_HEADER } from "@/server/http/security-headers";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Berth", template: "%s · Berth" },
  description: "Containers on your fleet, from one console.",
};

// Runs before paint so the page never flashes the wrong theme.
const themeScript = `try{var t=localStorage.getItem("berth-theme");var d=t?t==="dark":matchMedia("(prefers-color-scheme: dark)").matches;document.documentElement.classList.toggle("dark",d)}catch(e){}`;

// The Content-Security-Policy forbids eval. zod would probe for it (a reported violation) when its schemas are
// built, before falling back to its plain parser; its shared config (on globalThis, read at schema build time)
// says not to try. Runs before any bundle.
const zodWithoutEval = `globalThis.__zod_globalConfig=Object.assign(globalThis.__zod_globalConfig||{},{jitless:true})`;

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // The Content-Security-Policy runs inline scripts only with this response's nonce (server/http/security-headers.ts).
  const nonce = (await headers()).get(CSP_NONCE_HEADER) ?? undefined;
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script nonce={nonce} dangerouslySetInnerHTML={{ __html: themeScript }} />
        <script nonce={nonce} dangerouslySetInnerHTML={{ __html: zodWithoutEval }} />
      </head>
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
        {children}
      </body>
    </html>
  );
}
