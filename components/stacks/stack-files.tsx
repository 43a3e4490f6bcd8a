"use client";
import { useState } from "react";
import { Card } from "@/components/ui/card";
import type { StackSource } from "@/lib/compose/model";
import { YamlEditor } from "./yaml-editor";

// A version's files, read-only, one tab per file (compose files first, in merge order).

export function orderedFiles(source: StackSource) {
  const order = source.composeFiles ?? [];
  return [...source.files].sort((a, b) => {
    const ia = order.indexOf(a.path);
    const ib = order.indexOf(b.path);
    return (ia === -1 ? Infinity : ia) - (ib === -1 ? Infinity : ib);
  });
}

export function StackFiles({ source, title }: { source: StackSource; title: string }) {
  const files = orderedFiles(source);
  const [active, setActive] = useState(files[0]?.path ?? "");
  const file = files.find((f) => f.path === active) ?? files[0];
  return (
    <Card title={title}>
      {files.length > 1 ? (
        <div role="tablist" aria-label="Files" className="mb-3 flex flex-wrap gap-1">
          {files.map((f) => (
            <button
              key={f.path}
              type="button"
              role="tab"
              aria-selected={f.path === file?.path}
              onClick={() => setActive(f.path)}
              className={`rounded-md px-2 py-1 font-mono text-xs ${f.path === file?.path ? "bg-sky-100 font-semibold text-sky-900 dark:bg-sky-900/40 dark:text-sky-100" : "text-slate-600 hover:bg-slate-100 dark:text-slate-400 dark:hover:bg-slate-800"}`}
            >
              {f.path}
            </button>
          ))}
        </div>
      ) : null}
      {source.profiles?.length ? <p className="mb-2 text-xs text-slate-500">Profiles enabled: {source.profiles.join(", ")}</p> : null}
      {file ? <YamlEditor key={file.path} label={`${file.path} (read-only)`} value={file.content} readOnly language={/\.ya?ml$/i.test(file.path) ? "yaml" : "env"} testId="stack-file" /> : <p className="text-sm text-slate-500">No files.</p>}
    </Card>
  );
}
