// The stack editor's files as a StackSource, and back. Pure: no React.
// Compose files are merged in the order listed; `.env` and any env_file are
// plain files beside them.

import type { StackFile, StackProblem, StackSource } from "@/lib/compose/model";

export const DEFAULT_COMPOSE = "compose.yaml";
export const DOTENV = ".env";

export interface EditorFiles {
  /** Every file, in tab order. */
  files: StackFile[];
  /** Paths of the compose files among them, in merge order. */
  composeFiles: string[];
  /** Comma- or space-separated profile names as typed. */
  profiles: string;
}

export const NEW_STACK_TEMPLATE = `services:
  web:
    image: nginx:1.27
    ports:
      - "8080:80"
`;

export function emptyFiles(): EditorFiles {
  return { files: [{ path: DEFAULT_COMPOSE, content: NEW_STACK_TEMPLATE }, { path: DOTENV, content: "" }], composeFiles: [DEFAULT_COMPOSE], profiles: "" };
}

/** The editor's state for a stored source (Edit, a version). A missing .env gets an empty tab. */
export function filesFromSource(source: StackSource): EditorFiles {
  const files = source.files.map((f) => ({ ...f }));
  const composeFiles = source.composeFiles?.length
    ? [...source.composeFiles]
    : files.filter((f) => isComposeName(f.path)).map((f) => f.path).slice(0, 1);
  if (!files.some((f) => f.path === DOTENV)) files.push({ path: DOTENV, content: "" });
  return { files, composeFiles, profiles: (source.profiles ?? []).join(", ") };
}

export function parseProfiles(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

/** What goes to loadStack and the server: an empty .env is left out. */
export function toSource(state: EditorFiles): StackSource {
  const profiles = parseProfiles(state.profiles);
  return {
    files: state.files.filter((f) => !(f.path === DOTENV && f.content.trim() === "")),
    composeFiles: [...state.composeFiles],
    ...(profiles.length ? { profiles } : {}),
  };
}

export function isComposeName(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** Where an uploaded file goes: a YAML file is a compose file (appended to the merge order); anything else sits beside them. */
export function addUploads(state: EditorFiles, uploads: StackFile[], options: { replaceCompose: boolean }): EditorFiles {
  let files = [...state.files];
  let composeFiles = [...state.composeFiles];
  const newCompose = uploads.filter((u) => isComposeName(u.path)).map((u) => u.path);
  if (options.replaceCompose && newCompose.length) {
    // The first compose upload replaces the template the editor started with.
    files = files.filter((f) => !composeFiles.includes(f.path));
    composeFiles = [];
  }
  for (const u of uploads) {
    const at = files.findIndex((f) => f.path === u.path);
    if (at === -1) files.push(u);
    else files[at] = u;
    if (isComposeName(u.path) && !composeFiles.includes(u.path)) composeFiles.push(u.path);
  }
  return { ...state, files, composeFiles };
}

/** A file path the stack may hold: relative, "/"-separated, no "..". */
export function pathProblem(path: string, existing: string[]): string | null {
  if (!path.trim()) return "Give the file a name.";
  if (path.startsWith("/") || path.split("/").some((p) => p === ".." || p === "")) return "Use a relative path without “..”, e.g. app.env or config/web.env.";
  if (existing.includes(path)) return `There is already a file ${path}.`;
  return null;
}

/** Stack names as the server takes them: the compose project name. */
export function nameProblem(name: string): string | null {
  if (!name) return "Give the stack a name.";
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) return "Lower-case letters, digits, “-” and “_”, starting with a letter or digit.";
  if (name.length > 63) return "At most 63 characters.";
  return null;
}

/** "compose.yaml line 4: …" — where a problem is, for the list under the editor. */
export function problemWhere(p: StackProblem): string {
  const parts = [p.file, p.line ? `line ${p.line}` : null, p.path ? p.path : null].filter(Boolean);
  return parts.join(" · ");
}

/** The problems in one file (a problem without a file is the first compose file's). */
export function problemsIn(problems: StackProblem[], path: string, firstCompose: string | undefined): StackProblem[] {
  return problems.filter((p) => (p.file ?? firstCompose) === path);
}
