"use client";
import { useState } from "react";
import { errorMessage } from "@/components/trpc/client";
import { Button } from "./button";
import { ErrorText } from "./feedback";

// "Revoke" in a table row, asked twice: Revoke → "Revoke now" / "Keep". Used
// for API tokens and deploy webhooks; the row hides it once revoked.

export function RevokeControl({ what, pending, error, onRevoke }: { what: string; pending: boolean; error: unknown; onRevoke: () => void }) {
  const [confirming, setConfirming] = useState(false);
  return (
    <>
      {confirming ? (
        <span className="inline-flex items-center gap-1">
          <Button variant="danger" size="sm" disabled={pending} onClick={onRevoke}>
            {pending ? "Revoking…" : "Revoke now"}
          </Button>
          <Button variant="ghost" size="sm" disabled={pending} onClick={() => setConfirming(false)}>
            Keep
          </Button>
        </span>
      ) : (
        <Button variant="ghostDanger" size="sm" aria-label={`Revoke ${what}`} onClick={() => setConfirming(true)}>
          Revoke
        </Button>
      )}
      {error ? <ErrorText small>{errorMessage(error)}</ErrorText> : null}
    </>
  );
}
