"use client";
import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { Button, buttonClass } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, FormError, Input, inputClass } from "@/components/ui/field";
import { errorMessage, fieldErrors, useTRPC } from "@/components/trpc/client";
import type { HostItem } from "./host-status";
import { InstallAgent } from "./install-agent";

// Adding a host over SSH in three steps: connect (probe) → confirm the key
// and add → check prerequisites and install the agent.

type Step = "connect" | "confirm" | "install";

const STEPS: { id: Step; label: string }[] = [
  { id: "connect", label: "Connect" },
  { id: "confirm", label: "Confirm host key" },
  { id: "install", label: "Install agent" },
];

interface ConnectForm {
  address: string;
  port: string;
  username: string;
  method: "key" | "password";
  privateKey: string;
  passphrase: string;
  password: string;
}

const AGENT_FIELDS = [
  { key: "installDir", label: "Install directory", placeholder: "/usr/local/lib/berth", kind: "path" },
  { key: "root", label: "State root", placeholder: "/var/lib/berth", kind: "path" },
  { key: "socket", label: "Agent socket", placeholder: "/run/berth/agent.sock", kind: "path" },
  { key: "execRoot", label: "Exec root", placeholder: "(agent default)", kind: "path" },
  { key: "cgroupParent", label: "Cgroup parent", placeholder: "(agent default)", kind: "name64" },
  { key: "bridge", label: "Bridge", placeholder: "(agent default)", kind: "iface" },
  { key: "bridgeSubnet", label: "Bridge subnet", placeholder: "e.g. 172.29.0.0/16", kind: "cidr" },
  { key: "networkPool", label: "Network pool", placeholder: "e.g. 172.30.0.0/16", kind: "cidr" },
] as const;
/** The agent settings that are lists, typed comma-separated. */
const LIST_FIELDS = [
  {
    key: "insecureRegistries",
    label: "Insecure registries",
    hint: "Comma-separated host or host:port the agent may pull from over plain HTTP",
    placeholder: "registry.lan:5000, 10.0.0.5:5000",
  },
  {
    key: "allowLocalRegistries",
    label: "Registries on the host itself",
    hint: "Comma-separated host:port of registries the agent may reach on a loopback or link-local address (e.g. one running on the host). Pulls from any other address that resolves there are refused.",
    placeholder: "127.0.0.1:5000, localhost:5000",
  },
] as const;
type AgentKey = (typeof AGENT_FIELDS)[number]["key"];
type AgentForm = Record<AgentKey, string> & { insecureRegistries: string; allowLocalRegistries: string };

const EMPTY_AGENT: AgentForm = {
  installDir: "",
  root: "",
  socket: "",
  execRoot: "",
  cgroupParent: "",
  bridge: "",
  bridgeSubnet: "",
  networkPool: "",
  insecureRegistries: "",
  allowLocalRegistries: "",
};

// The server checks all of this again; these only save a round trip.
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const USER = /^[a-z_][a-z0-9_.-]*\$?$/i;
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const CHECKS: Record<(typeof AGENT_FIELDS)[number]["kind"], (v: string) => string | null> = {
  path: (v) => (!/^\/[A-Za-z0-9._/-]*$/.test(v) || v.split("/").includes("..") ? "must be an absolute path of letters, digits, . _ - and /" : null),
  name64: (v) => (/^[A-Za-z0-9_.-]{1,64}$/.test(v) ? null : "letters, digits, . _ - (up to 64)"),
  iface: (v) => (/^[A-Za-z0-9_-]{1,15}$/.test(v) ? null : "letters, digits, _ - (up to 15)"),
  cidr: (v) => (/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(v) ? null : "must be an IPv4 CIDR such as 172.29.0.0/16"),
};

function connectErrors(f: ConnectForm): Partial<Record<keyof ConnectForm, string>> {
  const e: Partial<Record<keyof ConnectForm, string>> = {};
  const address = f.address.trim();
  if (!address) e.address = "Enter the host's address.";
  else if (!(IPV4.test(address) || HOSTNAME.test(address) || /^[0-9a-fA-F:]+$/.test(address))) e.address = "Not a hostname or IP address.";
  const port = Number(f.port);
  if (!f.port.trim()) e.port = "Enter the SSH port.";
  else if (!Number.isInteger(port) || port < 1 || port > 65535) e.port = "The port is a whole number from 1 to 65535.";
  if (!f.username.trim()) e.username = "Enter the user to log in as.";
  else if (!USER.test(f.username.trim())) e.username = "Not a valid user name.";
  if (f.method === "key") {
    if (!f.privateKey.trim()) e.privateKey = "Paste the private key.";
    else if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(f.privateKey)) e.privateKey = "Paste the private key, starting with -----BEGIN … PRIVATE KEY-----.";
  } else if (!f.password) e.password = "Enter the password.";
  return e;
}

function splitList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function agentErrors(a: AgentForm): Partial<Record<keyof AgentForm, string>> {
  const e: Partial<Record<keyof AgentForm, string>> = {};
  for (const field of AGENT_FIELDS) {
    const v = a[field.key].trim();
    if (v) {
      const problem = CHECKS[field.kind](v);
      if (problem) e[field.key] = problem;
    }
  }
  const bad = splitList(a.insecureRegistries).filter((r) => !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(r));
  if (bad.length) e.insecureRegistries = `Not host or host:port: ${bad.join(", ")}`;
  const notLocal = splitList(a.allowLocalRegistries).filter((r) => !/^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/.test(r));
  if (notLocal.length) e.allowLocalRegistries = `Not host:port: ${notLocal.join(", ")}`;
  return e;
}

function nameError(name: string): string | null {
  const n = name.trim();
  if (!n) return "Name the host.";
  if (n.length > 63) return "63 characters at most.";
  if (!HOST_NAME.test(n)) return "Use letters, digits, dot, dash and underscore.";
  return null;
}

export function AddHostWizard() {
  const trpc = useTRPC();
  const [step, setStep] = useState<Step>("connect");
  const [form, setForm] = useState<ConnectForm>({ address: "", port: "22", username: "root", method: "key", privateKey: "", passphrase: "", password: "" });
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [name, setName] = useState("");
  const [agent, setAgent] = useState<AgentForm>(EMPTY_AGENT);
  const [added, setAdded] = useState<HostItem | null>(null);
  const [installed, setInstalled] = useState(false);
  const [advancedOpen, setAdvancedOpen] = useState(false);

  const probe = useMutation(trpc.hosts.probe.mutationOptions());
  const add = useMutation(trpc.hosts.add.mutationOptions({ onSuccess: (host) => { setAdded(host); setStep("install"); } }));

  const errors = connectErrors(form);
  const shown = (k: keyof ConnectForm) => (touched.has(k) || touched.has("*") ? errors[k] : undefined);
  const serverFields = fieldErrors(probe.error);
  const set = <K extends keyof ConnectForm>(k: K, v: ConnectForm[K]) => {
    setForm({ ...form, [k]: v });
    setTouched(new Set(touched).add(k));
  };

  const auth = () =>
    form.method === "key"
      ? { method: "key" as const, privateKey: form.privateKey, ...(form.passphrase ? { passphrase: form.passphrase } : {}) }
      : { method: "password" as const, password: form.password };
  const endpoint = () => ({ address: form.address.trim(), port: Number(form.port), username: form.username.trim(), auth: auth() });

  const connect = (e: FormEvent) => {
    e.preventDefault();
    setTouched(new Set(touched).add("*"));
    if (Object.keys(errors).length) return;
    probe.mutate(endpoint(), {
      onSuccess: () => {
        if (!name) setName(form.address.trim());
        add.reset();
        setStep("confirm");
      },
    });
  };

  const agentProblems = agentErrors(agent);
  const addFields = fieldErrors(add.error);
  const confirm = (e: FormEvent) => {
    e.preventDefault();
    if (!probe.data || nameError(name) || Object.keys(agentProblems).length) return;
    const settings: Record<string, unknown> = {};
    for (const f of AGENT_FIELDS) if (agent[f.key].trim()) settings[f.key] = agent[f.key].trim();
    const registries = splitList(agent.insecureRegistries);
    if (registries.length) settings.insecureRegistries = registries;
    const local = splitList(agent.allowLocalRegistries);
    if (local.length) settings.allowLocalRegistries = local;
    add.mutate({ ...endpoint(), name: name.trim(), fingerprint: probe.data.fingerprint, agent: settings });
  };

  return (
    <div className="space-y-6">
      <nav aria-label="Steps">
        <ol className="flex flex-wrap gap-2 text-sm">
          {STEPS.map((s, i) => {
            const current = s.id === step;
            const done = STEPS.findIndex((x) => x.id === step) > i;
            return (
              <li
                key={s.id}
                aria-current={current ? "step" : undefined}
                className={`rounded-full px-3 py-1 ${
                  current
                    ? "bg-sky-100 font-medium text-sky-900 dark:bg-sky-900/40 dark:text-sky-100"
                    : done
                      ? "bg-emerald-50 text-emerald-800 dark:bg-emerald-900/30 dark:text-emerald-300"
                      : "bg-slate-100 text-slate-600 dark:bg-slate-800 dark:text-slate-400"
                }`}
              >
                {i + 1}. {s.label}
                {done ? " ✓" : ""}
              </li>
            );
          })}
        </ol>
      </nav>

      {step === "connect" ? (
        <Card title="1. Connect over SSH">
          <form onSubmit={connect} aria-label="Connect to the host" className="space-y-4" noValidate>
            <div className="grid gap-3 sm:grid-cols-[1fr_8rem_12rem]">
              <Field label="Address" hint="Hostname or IP address" error={shown("address") ?? serverFields.address}>
                <Input name="address" autoComplete="off" spellCheck={false} value={form.address} onChange={(e) => set("address", e.target.value)} aria-invalid={Boolean(shown("address"))} />
              </Field>
              <Field label="Port" error={shown("port") ?? serverFields.port}>
                <Input name="port" inputMode="numeric" value={form.port} onChange={(e) => set("port", e.target.value)} aria-invalid={Boolean(shown("port"))} />
              </Field>
              <Field label="User" error={shown("username") ?? serverFields.username}>
                <Input name="username" autoComplete="off" spellCheck={false} value={form.username} onChange={(e) => set("username", e.target.value)} aria-invalid={Boolean(shown("username"))} />
              </Field>
            </div>
            <fieldset className="space-y-3">
              <legend className="text-sm font-medium text-slate-700 dark:text-slate-300">Authentication</legend>
              <div className="flex gap-4 text-sm">
                <label className="flex items-center gap-2">
                  <input type="radio" name="method" value="key" checked={form.method === "key"} onChange={() => set("method", "key")} />
                  Key
                </label>
                <label className="flex items-center gap-2">
                  <input type="radio" name="method" value="password" checked={form.method === "password"} onChange={() => set("method", "password")} />
                  Password
                </label>
              </div>
              {form.method === "key" ? (
                <>
                  <Field label="Private key" hint="OpenSSH or PEM private key text. It is stored encrypted and never shown again." error={shown("privateKey") ?? serverFields["auth.privateKey"]}>
                    <textarea
                      name="privateKey"
                      rows={6}
                      spellCheck={false}
                      autoComplete="off"
                      placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
                      value={form.privateKey}
                      onChange={(e) => set("privateKey", e.target.value)}
                      aria-invalid={Boolean(shown("privateKey"))}
                      className={`${inputClass} font-mono text-xs`}
                    />
                  </Field>
                  <Field label="Passphrase (optional)" error={serverFields["auth.passphrase"]}>
                    <Input name="passphrase" type="password" autoComplete="off" value={form.passphrase} onChange={(e) => set("passphrase", e.target.value)} />
                  </Field>
                </>
              ) : (
                <Field label="SSH password" hint="Stored encrypted; used for every connection." error={shown("password") ?? serverFields["auth.password"]}>
                  <Input name="password" type="password" autoComplete="off" value={form.password} onChange={(e) => set("password", e.target.value)} aria-invalid={Boolean(shown("password"))} />
                </Field>
              )}
            </fieldset>
            <div className="flex items-center gap-3">
              <Button type="submit" disabled={probe.isPending}>
                {probe.isPending ? "Connecting…" : "Connect"}
              </Button>
              <Link href="/hosts" className="text-sm text-slate-600 hover:underline dark:text-slate-400">
                Cancel
              </Link>
            </div>
            {probe.isPending ? (
              <p role="status" className="text-sm text-slate-500">
                Connecting to {form.address.trim()}:{form.port}… (gives up after 10 seconds)
              </p>
            ) : null}
            <FormError message={probe.error ? `Could not connect: ${errorMessage(probe.error)}` : null} />
          </form>
        </Card>
      ) : null}

      {step === "confirm" && probe.data ? (
        <Card title="2. Confirm the host key">
          <form onSubmit={confirm} aria-label="Confirm the host key" className="space-y-4" noValidate>
            <div className="space-y-2">
              <p className="text-sm">
                {form.address.trim()}:{form.port} answered with this host key. Nothing has been sent to it yet: your{" "}
                {form.method === "key" ? "key" : "password"} is used only after you confirm the key.
              </p>
              <p
                className="break-all rounded-md border border-slate-200 bg-slate-50 px-3 py-2 font-mono text-sm dark:border-slate-700 dark:bg-slate-950"
                data-testid="probe-fingerprint"
              >
                {probe.data.fingerprint}
              </p>
              <p className="text-sm text-slate-600 dark:text-slate-400">
                Compare it with <code className="rounded bg-slate-100 px-1 font-mono text-xs dark:bg-slate-800">ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</code> on
                the host (over its console, not over this same network). Berth pins this key: if the host ever presents another one, it stops connecting
                until you trust the new key.
              </p>
            </div>
            <Field label="Name" hint="How the console shows this host" error={nameError(name) ?? addFields.name}>
              <Input name="name" autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={Boolean(nameError(name))} />
            </Field>
            <details
              className="rounded-md border border-slate-200 px-3 py-2 dark:border-slate-700"
              open={advancedOpen || Object.keys(agentProblems).length > 0 || Object.keys(addFields).some((k) => k.startsWith("agent."))}
              onToggle={(e) => setAdvancedOpen(e.currentTarget.open)}
            >
              <summary className="cursor-pointer text-sm font-medium">Advanced agent settings</summary>
              <p className="mt-2 text-xs text-slate-500">Leave blank for the defaults. Set these when several agents share one machine.</p>
              <div className="mt-3 grid gap-3 sm:grid-cols-2">
                {[...AGENT_FIELDS, ...LIST_FIELDS].map((f) => {
                  const list = "hint" in f;
                  // A list's error may be about one of its items (agent.insecureRegistries.1).
                  const serverError = addFields[`agent.${f.key}`] ?? Object.entries(addFields).find(([k]) => k.startsWith(`agent.${f.key}.`))?.[1];
                  return (
                    <div key={f.key} className={list ? "sm:col-span-2" : undefined}>
                      <Field label={f.label} hint={list ? f.hint : undefined} error={agentProblems[f.key] ?? serverError}>
                        <Input
                          name={f.key}
                          autoComplete="off"
                          spellCheck={false}
                          placeholder={f.placeholder}
                          value={agent[f.key]}
                          onChange={(e) => setAgent({ ...agent, [f.key]: e.target.value })}
                          aria-invalid={Boolean(agentProblems[f.key])}
                        />
                      </Field>
                    </div>
                  );
                })}
              </div>
            </details>
            <div className="flex flex-wrap items-center gap-3">
              <Button type="submit" disabled={add.isPending || Boolean(nameError(name)) || Object.keys(agentProblems).length > 0}>
                {add.isPending ? "Adding…" : "Trust this key and add the host"}
              </Button>
              <Button variant="secondary" onClick={() => setStep("connect")} disabled={add.isPending}>
                Back
              </Button>
            </div>
            <FormError message={add.error ? `Could not add the host: ${errorMessage(add.error)}` : null} />
          </form>
        </Card>
      ) : null}

      {step === "install" && added ? (
        <Card title={`3. Install the agent on ${added.name}`}>
          <div className="space-y-4">
            <p className="text-sm text-slate-600 dark:text-slate-400">
              {added.name} is added and its key <span className="font-mono text-xs">{added.hostKeyFingerprint}</span> is pinned. The agent runs containers on
              it; the gateway talks to it through SSH.
            </p>
            <InstallAgent hostId={added.id} onInstalled={() => setInstalled(true)} />
            <div className="flex flex-wrap gap-3 border-t border-slate-200 pt-4 dark:border-slate-800">
              <Link href="/hosts" className={installed ? buttonClass() : "text-sm text-sky-700 hover:underline dark:text-sky-400"}>
                {installed ? "Go to the host list" : "Skip for now: go to the host list"}
              </Link>
              <Link href={`/hosts/${added.id}`} className="self-center text-sm text-sky-700 hover:underline dark:text-sky-400">
                Open {added.name}
              </Link>
            </div>
          </div>
        </Card>
      ) : null}
    </div>
  );
}
