"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { errorMessage, useTRPC } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { ErrorText } from "@/components/ui/feedback";

/** Adds the machine the console runs on as a host, then opens it. */
export function AddLocalButton() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const add = useMutation(
    trpc.hosts.addLocal.mutationOptions({
      onSuccess: async (host) => {
        // Every hosts query: the list, and the dashboard's overview.
        await qc.invalidateQueries(trpc.hosts.pathFilter());
        router.push(`/hosts/${host.id}`);
      },
    }),
  );
  return (
    <span className="inline-flex flex-col items-center gap-1">
      <Button variant="secondary" disabled={add.isPending} onClick={() => add.mutate({})}>
        {add.isPending ? "Adding this machine…" : "Add this machine"}
      </Button>
      {add.error ? <ErrorText small>{errorMessage(add.error)}</ErrorText> : null}
    </span>
  );
}
