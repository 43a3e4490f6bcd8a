import type { Metadata } from "next";
import Link from "next/link";
import { Card } from "@/components/ui/card";
import { db } from "@/server/db";
import { isSetupTokenValid } from "@/server/services/setup/first-owner";
import { SetupForm } from "./setup-form";

export const metadata: Metadata = { title: "Set up" };
export const dynamic = "force-dynamic";

export default async function SetupPage({ searchParams }: { searchParams: Promise<{ token?: string }> }) {
  const { token } = await searchParams;
  const valid = typeof token === "string" && token.length > 0 && (await isSetupTokenValid(db(), token));
  return (
    <Card title="Create the first owner">
      {valid ? (
        <SetupForm token={token} />
      ) : (
        <div className="space-y-3 text-sm">
          <p role="alert">This set-up link is invalid, already used or expired.</p>
          <p className="text-slate-600 dark:text-slate-400">
            If Berth has no owner yet, restart it: a fresh link is printed on its console.
          </p>
          <Link className="text-sky-700 underline dark:text-sky-400" href="/sign-in">
            Go to sign-in
          </Link>
        </div>
      )}
    </Card>
  );
}
