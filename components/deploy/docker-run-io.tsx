"use client";
import { useEffect, useId, useState } from "react";
import { Button } from "@/components/ui/button";
import { Card, CollapsibleCard } from "@/components/ui/card";
import { FormError, inputClass } from "@/components/ui/field";
import { formatDockerRun } from "@/lib/deploy/docker-run/format";
import { DockerRunParseError, parseDockerRun } from "@/lib/deploy/docker-run/parse";
import type { DeploySpec, DeploySpecInput } from "@/lib/deploy/spec";

// The deploy form's two ways to and from the command line: fill the form from
// a pasted `docker run`, and show the `docker run` the form amounts to.

/** A pasted `docker run`, read into a spec (what it can't express is named, not dropped). */
export function PasteDockerRun({ onParsed, disabled }: { onParsed: (spec: DeploySpecInput) => void; disabled: boolean }) {
  const id = useId();
  const [text, setText] = useState("");
  const [result, setResult] = useState<{ error: string | null; warnings: string[]; filled: boolean }>({ error: null, warnings: [], filled: false });
  const fill = () => {
    try {
      const parsed = parseDockerRun(text);
      onParsed(parsed.spec);
      setResult({ error: null, warnings: parsed.warnings, filled: true });
    } catch (e) {
      setResult({ error: e instanceof DockerRunParseError ? e.message : "This command could not be read.", warnings: [], filled: false });
    }
  };
  return (
    <CollapsibleCard title="Paste a docker run command">
      <div className="space-y-3">
        <label htmlFor={id} className="block text-sm text-slate-600 dark:text-slate-400">
          The form is filled from its flags and image; anything it can&apos;t express is named below.
        </label>
        <textarea
          id={id}
          rows={3}
          className={`${inputClass} font-mono`}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setResult({ error: null, warnings: [], filled: false });
          }}
          placeholder="docker run -d --name web -p 8080:80 -e MODE=prod --memory 256m nginx:1.27"
          spellCheck={false}
          aria-label="docker run command"
        />
        <div className="flex flex-wrap items-center gap-3">
          <Button variant="secondary" onClick={fill} disabled={disabled || !text.trim()}>
            Fill the form
          </Button>
          {result.filled ? (
            <span role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
              The form now holds this command. Check it, then deploy.
            </span>
          ) : null}
        </div>
        {result.error ? <FormError message={result.error} /> : null}
        {result.warnings.length ? (
          <ul className="list-disc space-y-0.5 pl-5 text-xs text-amber-800 dark:text-amber-300" aria-label="Paste warnings" data-testid="paste-warnings">
            {result.warnings.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        ) : null}
      </div>
    </CollapsibleCard>
  );
}

/** The `docker run` equivalent of a valid spec (secrets masked), to copy; or what is missing for one. */
export function DockerRunPreview({ spec, hasImage }: { spec: DeploySpec | null; hasImage: boolean }) {
  const command = spec ? formatDockerRun(spec, { maskSecrets: true }) : null;
  return (
    <Card title="Equivalent docker run">
      {command ? (
        <div className="space-y-2">
          <pre className="max-h-64 overflow-auto whitespace-pre-wrap break-all rounded-md bg-slate-900 p-3 font-mono text-xs text-slate-100" data-testid="docker-run-preview">
            {command}
          </pre>
          <CopyButton text={command} />
        </div>
      ) : (
        <p className="text-sm text-slate-500" data-testid="docker-run-preview-empty">
          {hasImage ? "Fix the fields marked in the form to see the command." : "Enter an image to see the command."}
        </p>
      )}
    </Card>
  );
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  const [available, setAvailable] = useState(false);
  // The clipboard API needs a secure context (https or localhost); known only in the browser.
  useEffect(() => setAvailable(Boolean(navigator.clipboard)), []);
  if (!available) return null;
  return (
    <Button
      variant="ghost"
      size="xs"
      onClick={() => {
        void navigator.clipboard.writeText(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1_500);
        });
      }}
    >
      {copied ? "Copied" : "Copy"}
    </Button>
  );
}
