import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { Card } from "@/components/ui/card";
import { getViewer } from "@/server/auth/viewer";
import { db } from "@/server/db";
import { env } from "@/server/env";
import { publicOrigin, sameOriginPath } from "@/server/http/same-origin";
import { needsSetup } from "@/server/services/setup/first-owner";
import { SignInForm } from "./sign-in-form";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  if (await getViewer()) redirect("/");
  const { next } = await searchParams;
  const firstRun = await needsSetup(db());
  return (
    <Card>
      {firstRun ? (
        <div className="mb-4 rounded-md bg-sky-50 px-3 py-2 text-sm text-sky-900 dark:bg-sky-950 dark:text-sky-200" role="note">
          <p className="font-medium">Welcome! Berth has no owner yet.</p>
          <p className="mt-1">
            Open the one-time set-up link printed on the server console when Berth started, or restart it with{" "}
            <code className="font-mono">BERTH_ADMIN_EMAIL</code> and <code className="font-mono">BERTH_ADMIN_PASSWORD</code> set, then
            sign in here.
          </p>
        </div>
      ) : null}
      {/* Checked here and again by the action, which can't trust what the form sends back. */}
      <SignInForm next={sameOriginPath(next, publicOrigin(env())) ?? "/"} />
    </Card>
  );
}
