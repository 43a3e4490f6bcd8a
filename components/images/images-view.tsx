"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import Link from "next/link";
import { useId, useState } from "react";
import { covers, reasonOn, type HostCoverage } from "@/components/hosts/coverage";
import { HostScope } from "@/components/hosts/host-scope";
import type { HostItem } from "@/components/hosts/host-status";
import { RegistryPicker } from "@/components/settings/registry-picker";
import { errorMessage, fieldErrors, useTRPC } from "@/components/trpc/client";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, EmptyState } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { cell, ListCard } from "@/components/ui/data-table";
import { Reason, SuccessText } from "@/components/ui/feedback";
import { Field, FormError, Input } from "@/components/ui/field";
import { CheckboxField, FormActions } from "@/components/ui/form";
import { formatBytes, fromUnix, shortId } from "@/components/ui/format";
import { Modal } from "@/components/ui/modal";
import { imageReferenceProblem } from "@/lib/deploy/spec";
import type { AppRouter } from "@/server/routers/_app";
import { OperationProgressView, useOperation } from "./use-operation";

type ImageItem = inferRouterOutputs<AppRouter>["images"]["list"][number];
type Registry = inferRouterOutputs<AppRouter>["registries"]["choices"][number];

export interface ImagesCoverage {
  read: HostCoverage;
  pull: HostCoverage;
  remove: HostCoverage;
  build: HostCoverage;
}

/** Images per host: list, pull with progress, tag, push to a saved registry, remove. */
export function ImagesView({ coverage, initialHostId, canManageRegistries }: { coverage: ImagesCoverage; initialHostId: string | null; canManageRegistries: boolean }) {
  return (
    <HostScope read={coverage.read} readPermission="images.read" initialHostId={initialHostId} what="images">
      {(host) => <HostImages host={host} coverage={coverage} canManageRegistries={canManageRegistries} />}
    </HostScope>
  );
}

interface Rights {
  pull: string | null;
  remove: string | null;
  /** Pushing publishes what is on the host: it takes images.pull and images.build there. */
  push: string | null;
}

function HostImages({ host, coverage, canManageRegistries }: { host: HostItem; coverage: ImagesCoverage; canManageRegistries: boolean }) {
  const trpc = useTRPC();
  const images = useQuery({ ...trpc.images.list.queryOptions({ hostId: host.id }), retry: false });
  // Saved registries are offered to those who may pull here (a Viewer isn't asked, so isn't refused).
  const registries = useQuery({ ...trpc.registries.choices.queryOptions(), enabled: covers(coverage.pull, host) });
  const rights: Rights = {
    pull: reasonOn(coverage.pull, host, "images.pull"),
    remove: reasonOn(coverage.remove, host, "images.delete"),
    push: covers(coverage.pull, host) && covers(coverage.build, host) ? null : "Pushing needs the images.pull and images.build permissions on this host.",
  };
  return (
    <div className="space-y-6">
      <PullCard hostId={host.id} reason={rights.pull} registries={registries.data ?? []} />
      <ListCard
        noun="image"
        where={`on ${host.name}`}
        query={images}
        empty={<EmptyState title="No images on this host">Pull one above, or deploy a container and its image is pulled for you.</EmptyState>}
        testId="images-table"
        columns={["Image", "ID", "Size", "Created", "Used by", { label: "Actions", srOnly: true }]}
      >
        {(img) => <ImageRow key={img.id} image={img} hostId={host.id} rights={rights} registries={registries.data ?? []} canManageRegistries={canManageRegistries} />}
      </ListCard>
    </div>
  );
}

function useRefreshImages(hostId: string) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return () => qc.invalidateQueries(trpc.images.list.queryFilter({ hostId }));
}

function PullCard({ hostId, reason, registries }: { hostId: string; reason: string | null; registries: Registry[] }) {
  const trpc = useTRPC();
  const refresh = useRefreshImages(hostId);
  const pullImage = useMutation(trpc.images.pull.mutationOptions());
  const formId = useId();
  const [reference, setReference] = useState("");
  const [registryId, setRegistryId] = useState("");
  const [touched, setTouched] = useState(false);
  const [pulled, setPulled] = useState<string | null>(null);
  const op = useOperation();
  const problem = reference.trim() ? imageReferenceProblem(reference.trim()) : "enter an image reference";

  const pull = (e: React.FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (problem || reason || op.state.running) return;
    const ref = reference.trim();
    setPulled(null);
    op.start(async (progressToken) => {
      await pullImage.mutateAsync({ hostId, reference: ref, registryId: registryId || undefined, progressToken });
      setPulled(ref);
      await refresh();
    });
  };

  return (
    <Card title="Pull an image">
      <form aria-labelledby={`${formId}-title`} onSubmit={pull} className="space-y-3" noValidate>
        <span id={`${formId}-title`} className="sr-only">
          Pull an image
        </span>
        <div className="grid gap-3 md:grid-cols-[1fr_16rem_auto] md:items-end">
          <Field label="Image reference" hint="e.g. docker.io/library/nginx:1.27 or registry.example.com:5000/team/app:v2" error={reference.trim() || touched ? problem : null}>
            <Input
              value={reference}
              onChange={(e) => setReference(e.target.value)}
              onBlur={() => setTouched(true)}
              placeholder="nginx:latest"
              autoComplete="off"
              spellCheck={false}
              disabled={Boolean(reason)}
            />
          </Field>
          <Field label="Saved registry" hint={registries.length ? "Its credentials are used for the pull." : "None saved: anonymous pull."}>
            <RegistryPicker registries={registries} value={registryId} onChange={setRegistryId} noneLabel="None (anonymous)" disabled={Boolean(reason) || registries.length === 0} />
          </Field>
          <Button type="submit" disabled={Boolean(reason) || op.state.running || Boolean(reference.trim() && problem)} title={reason ?? undefined}>
            {op.state.running ? "Pulling…" : "Pull"}
          </Button>
        </div>
        <Reason>{reason}</Reason>
      </form>
      <div className="mt-3 space-y-2">
        <OperationProgressView state={op.state} label="Pull progress" testId="pull-progress" />
        {pulled && op.state.result === "done" ? <SuccessText testId="pull-result">Pulled {pulled}.</SuccessText> : null}
      </div>
    </Card>
  );
}

function ImageRow({
  image,
  hostId,
  rights,
  registries,
  canManageRegistries,
}: {
  image: ImageItem;
  hostId: string;
  rights: Rights;
  registries: Registry[];
  canManageRegistries: boolean;
}) {
  const [dialog, setDialog] = useState<"remove" | "tag" | "push" | null>(null);
  const name = image.tags[0] ?? shortId(image.id);
  const created = fromUnix(image.created);
  const inUse = image.containers.length > 0;
  return (
    <tr className="align-top" data-testid={`image-${name}`}>
      <td className={cell}>
        {image.tags.length ? (
          <ul className="space-y-0.5">
            {image.tags.map((t) => (
              <li key={t} className="break-all font-mono text-xs">
                {t}
              </li>
            ))}
          </ul>
        ) : (
          <Badge>untagged</Badge>
        )}
      </td>
      <td className={`${cell} font-mono text-xs`} title={image.id}>
        {shortId(image.id)}
      </td>
      <td className={`${cell} whitespace-nowrap text-xs`}>{formatBytes(image.size)}</td>
      <td className={`${cell} whitespace-nowrap text-xs`}>
        <time dateTime={created.toISOString()} title={created.toLocaleString()}>
          {created.toLocaleDateString()}
        </time>
      </td>
      <td className={`${cell} text-xs`} data-testid="image-used-by">
        {inUse ? (
          <ul className="space-y-0.5">
            {image.containers.map((c) => (
              <li key={c.id}>
                {c.name || shortId(c.id)} <span className="text-slate-500">({c.state})</span>
              </li>
            ))}
          </ul>
        ) : (
          <span className="text-slate-500">not in use</span>
        )}
      </td>
      <td className={cell}>
        <div className="flex flex-wrap justify-end gap-1">
          <Button variant="ghost" size="sm" disabled={Boolean(rights.pull)} title={rights.pull ?? undefined} onClick={() => setDialog("tag")}>
            Tag
          </Button>
          <Button variant="ghost" size="sm" disabled={Boolean(rights.push)} title={rights.push ?? undefined} onClick={() => setDialog("push")}>
            Push
          </Button>
          <Button variant="ghostDanger" size="sm" disabled={Boolean(rights.remove)} title={rights.remove ?? undefined} onClick={() => setDialog("remove")}>
            Remove
          </Button>
        </div>
        {rights.remove && rights.pull ? <div className="mt-1 text-right"><Reason>Read-only here: {rights.remove}</Reason></div> : null}
        {dialog === "remove" ? <RemoveImageDialog image={image} name={name} hostId={hostId} onClose={() => setDialog(null)} /> : null}
        {dialog === "tag" ? <TagImageDialog image={image} name={name} hostId={hostId} onClose={() => setDialog(null)} /> : null}
        {dialog === "push" ? (
          <PushImageDialog image={image} name={name} hostId={hostId} registries={registries} canManageRegistries={canManageRegistries} onClose={() => setDialog(null)} />
        ) : null}
      </td>
    </tr>
  );
}

function RemoveImageDialog({ image, name, hostId, onClose }: { image: ImageItem; name: string; hostId: string; onClose: () => void }) {
  const trpc = useTRPC();
  const refresh = useRefreshImages(hostId);
  const [force, setForce] = useState(false);
  const remove = useMutation(
    trpc.images.remove.mutationOptions({
      onSuccess: async () => {
        onClose();
        await refresh();
      },
    }),
  );
  const users = image.containers.map((c) => c.name || shortId(c.id));
  return (
    <ConfirmDialog
      title={`Remove ${name}?`}
      confirmLabel="Remove image"
      mutation={remove}
      blocked={users.length > 0 && !force ? `In use by ${users.join(", ")}: tick Force to remove it anyway.` : null}
      onConfirm={() => remove.mutate({ hostId, image: image.id, force })}
      onClose={onClose}
    >
      <p>
        The image <span className="break-all font-mono text-xs">{name}</span> ({formatBytes(image.size)}) is deleted from this host. Pulling it again
        downloads it again.
      </p>
      {users.length ? (
        <p className="rounded-md bg-amber-50 px-3 py-2 text-amber-900 dark:bg-amber-950 dark:text-amber-200" data-testid="image-in-use">
          In use by {users.join(", ")}. Remove those containers first, or force the removal.
        </p>
      ) : null}
      <CheckboxField label="Force" hint="Remove it even if containers use it or it has several tags." checked={force} onChange={setForce} />
    </ConfirmDialog>
  );
}

function TagImageDialog({ image, name, hostId, onClose }: { image: ImageItem; name: string; hostId: string; onClose: () => void }) {
  const trpc = useTRPC();
  const refresh = useRefreshImages(hostId);
  const [target, setTarget] = useState("");
  const tag = useMutation(trpc.images.tag.mutationOptions({ onSuccess: async () => { onClose(); await refresh(); } }));
  const problem = target.trim() ? imageReferenceProblem(target.trim()) : null;
  const serverField = fieldErrors(tag.error).target;
  return (
    <Modal title={`Tag ${name}`} busy={tag.isPending} onClose={onClose}>
      <form
        className="space-y-4"
        onSubmit={(e) => {
          e.preventDefault();
          if (!problem && target.trim()) tag.mutate({ hostId, image: image.id, target: target.trim() });
        }}
      >
        <Field label="New tag" hint="A full reference, e.g. registry.example.com:5000/team/app:v2" error={problem ?? serverField ?? null}>
          <Input value={target} onChange={(e) => setTarget(e.target.value)} autoFocus autoComplete="off" spellCheck={false} />
        </Field>
        <FormError message={tag.error && !serverField ? errorMessage(tag.error) : null} />
        <FormActions submitLabel="Add tag" pendingLabel="Tagging…" pending={tag.isPending} disabled={!target.trim() || Boolean(problem)} onCancel={onClose} />
      </form>
    </Modal>
  );
}

/** `host:5000/team/app:v1` → `team/app:v1`; `nginx:1` stays. The first part is a registry when it has a dot or a port, or is localhost. */
function withoutRegistry(reference: string): string {
  const [first, ...rest] = reference.split("/");
  if (rest.length && first && (first.includes(".") || first.includes(":") || first === "localhost")) return rest.join("/");
  return reference;
}

function PushImageDialog({
  image,
  name,
  hostId,
  registries,
  canManageRegistries,
  onClose,
}: {
  image: ImageItem;
  name: string;
  hostId: string;
  registries: Registry[];
  canManageRegistries: boolean;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const refresh = useRefreshImages(hostId);
  const tagImage = useMutation(trpc.images.tag.mutationOptions());
  const pushImage = useMutation(trpc.images.push.mutationOptions());
  const [registryId, setRegistryId] = useState(registries[0]?.id ?? "");
  const registry = registries.find((r) => r.id === registryId);
  const suggested = (r: Registry | undefined) => (r ? `${r.address}/${withoutRegistry(image.tags[0] ?? `image:${shortId(image.id)}`)}` : "");
  const [target, setTarget] = useState(() => suggested(registries[0]));
  const [pushed, setPushed] = useState<string | null>(null);
  const op = useOperation();
  const problem = target.trim() ? imageReferenceProblem(target.trim()) : "enter the reference to push as";
  const elsewhere = registry && target.trim() && !target.trim().toLowerCase().startsWith(`${registry.address}/`);

  const push = (e: React.FormEvent) => {
    e.preventDefault();
    if (!registry || problem || op.state.running) return;
    const reference = target.trim();
    setPushed(null);
    op.start(async (progressToken) => {
      // The agent pushes a local name: tag the image with it first when it isn't one of its tags yet.
      if (!image.tags.includes(reference)) await tagImage.mutateAsync({ hostId, image: image.id, target: reference });
      await pushImage.mutateAsync({ hostId, reference, registryId: registry.id, progressToken });
      setPushed(reference);
      await refresh();
    });
  };

  return (
    <Modal title={`Push ${name}`} busy={op.state.running} onClose={onClose}>
      {registries.length === 0 ? (
        <div className="space-y-3 text-sm">
          <p>Pushing goes to a saved registry, with its credentials. None is saved yet.</p>
          {canManageRegistries ? (
            <Link href="/settings#registries" className="font-medium text-sky-700 underline dark:text-sky-400">
              Add a registry in Settings
            </Link>
          ) : (
            <p className="text-slate-500">Saving one needs the registries.manage permission: ask an Owner or Admin.</p>
          )}
          <div className="flex justify-end">
            <Button variant="secondary" onClick={onClose}>
              Close
            </Button>
          </div>
        </div>
      ) : (
        <form className="space-y-4" onSubmit={push}>
          <Field label="Registry">
            <RegistryPicker
              registries={registries}
              value={registryId}
              onChange={(id) => {
                setRegistryId(id);
                setTarget(suggested(registries.find((r) => r.id === id)));
              }}
              disabled={op.state.running}
            />
          </Field>
          <Field
            label="Push as"
            hint={image.tags.includes(target.trim()) ? "Already a tag of this image." : "The image is tagged with this name on the host, then pushed."}
            error={target ? (problem ?? (elsewhere ? `This name points at another registry than ${registry!.address}.` : null)) : null}
          >
            <Input value={target} onChange={(e) => setTarget(e.target.value)} autoComplete="off" spellCheck={false} disabled={op.state.running} />
          </Field>
          <OperationProgressView state={op.state} label="Push progress" testId="push-progress" />
          {pushed && op.state.result === "done" ? <SuccessText>Pushed {pushed}.</SuccessText> : null}
          <FormActions
            submitLabel="Push"
            pendingLabel="Pushing…"
            pending={op.state.running}
            disabled={Boolean(problem) || Boolean(elsewhere)}
            cancelLabel={op.state.result === "done" ? "Close" : "Cancel"}
            onCancel={onClose}
          />
        </form>
      )}
    </Modal>
  );
}
