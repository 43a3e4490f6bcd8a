"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { errorMessage } from "@/components/trpc/client";
import { PageHeader } from "@/components/ui/card";
import { Loading } from "@/components/ui/feedback";
import { FormError } from "@/components/ui/field";
import type { HostCoverage } from "@/components/hosts/coverage";
import { useStacksTRPC } from "./api";
import { StackEditor } from "./stack-editor";

// Edit: the editor prefilled with the stack's current files; applying makes the next version.

export function EditStack({ stackId, deploy }: { stackId: string; deploy: HostCoverage }) {
  const api = useStacksTRPC();
  // Read once: a background refresh must not replace what is being edited.
  const stack = useQuery({ ...api.stacks.get.queryOptions({ stackId }), staleTime: Infinity, refetchOnWindowFocus: false });
  if (stack.error) return <FormError message={errorMessage(stack.error)} />;
  if (!stack.data) return <Loading />;
  const s = stack.data;
  return (
    <>
      <PageHeader title={`Edit ${s.name}`} description={`On ${s.hostName}, now at version ${s.version}. Applying makes version ${s.version + 1}; only services whose configuration changed are recreated.`} />
      <p className="-mt-4 mb-4 text-sm">
        <Link href={`/stacks/${s.id}`} className="text-sky-700 hover:underline dark:text-sky-400">
          ← Back to the stack
        </Link>
      </p>
      <StackEditor deploy={deploy} existing={s} />
    </>
  );
}
