"use client";
import { yaml } from "@codemirror/lang-yaml";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { useEffect, useRef, type RefObject } from "react";

// A compose file (or .env) in CodeMirror 6: YAML highlighting, line numbers,
// problems marked on their lines, and a way for the page to put the cursor on
// a line. Read-only for the stack page's "current file" and versions.

export interface EditorMark {
  /** 1-based. */
  line: number;
  /** 1-based; the whole line when absent. */
  column?: number;
  message: string;
  severity: "error" | "warning";
}

export interface YamlEditorHandle {
  /** Moves the cursor to the line (1-based) and focuses the editor. */
  goToLine(line: number, column?: number): void;
}

const theme = EditorView.theme({
  "&": { fontSize: "13px", border: "1px solid rgb(203 213 225)", borderRadius: "0.375rem" },
  "&.cm-focused": { outline: "2px solid rgb(14 165 233)" },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace", minHeight: "12rem" },
});

function editableExtensions(readOnly: boolean) {
  return [EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly), EditorView.contentAttributes.of(readOnly ? { "aria-readonly": "true" } : {})];
}

function toDiagnostics(state: EditorState, marks: EditorMark[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const m of marks) {
    if (!Number.isInteger(m.line) || m.line < 1) continue;
    const line = state.doc.line(Math.min(m.line, state.doc.lines));
    const from = m.column && m.column > 1 ? Math.min(line.from + m.column - 1, line.to) : line.from;
    // An empty line still gets a visible mark: one character past it when there is one.
    const to = line.to > from ? line.to : Math.min(from + 1, state.doc.length);
    out.push({ from, to, severity: m.severity, message: m.message });
  }
  return out;
}

export function YamlEditor({
  label,
  value,
  onChange,
  readOnly = false,
  marks = [],
  language = "yaml",
  handleRef,
  testId,
  maxHeight = "32rem",
}: {
  /** The editor's accessible name ("compose.yaml"). */
  label: string;
  value: string;
  onChange?: (value: string) => void;
  readOnly?: boolean;
  marks?: EditorMark[];
  /** "env" files get no YAML highlighting. */
  language?: "yaml" | "env";
  handleRef?: RefObject<YamlEditorHandle | null>;
  testId?: string;
  maxHeight?: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const editable = useRef(new Compartment());
  const onChangeRef = useRef(onChange);
  useEffect(() => {
    onChangeRef.current = onChange;
  }, [onChange]);

  // One view per mount; later value changes are applied to it (below).
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const v = new EditorView({
      parent: el,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          ...(language === "yaml" ? [yaml()] : []),
          lintGutter(),
          theme,
          EditorView.theme({ ".cm-scroller": { maxHeight } }),
          EditorView.contentAttributes.of({ "aria-label": label }),
          editable.current.of(editableExtensions(readOnly)),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChangeRef.current?.(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The view is built once per mount (label/language/readOnly are fixed for an editor's life).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    view.current?.dispatch({ effects: editable.current.reconfigure(editableExtensions(readOnly)) });
  }, [readOnly]);

  // A value from outside (an upload, a prefill, another version): replace the document.
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const current = v.state.doc.toString();
    if (current !== value) v.dispatch({ changes: { from: 0, to: current.length, insert: value } });
  }, [value]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    v.dispatch(setDiagnostics(v.state, toDiagnostics(v.state, marks)));
  }, [marks, value]);

  useEffect(() => {
    if (!handleRef) return;
    handleRef.current = {
      goToLine(line, column) {
        const v = view.current;
        if (!v) return;
        const l = v.state.doc.line(Math.max(1, Math.min(line, v.state.doc.lines)));
        const pos = column && column > 1 ? Math.min(l.from + column - 1, l.to) : l.from;
        v.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
        v.focus();
      },
    };
    return () => {
      handleRef.current = null;
    };
  }, [handleRef]);

  return <div ref={host} data-testid={testId} className="bg-white text-slate-900 dark:bg-slate-950 dark:text-slate-100" />;
}
