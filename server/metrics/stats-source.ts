import "server-only";
import { latestHostSamples, latestSamples } from "../stats/latest";
import type { ContainerSampleView, HostSampleView } from "./scrape";

// The stats collector's latest samples (server/stats/latest.ts): every
// running container's and every host's, replaced on each pass, so a
// container that went away drops out. Empty in a gateway that collects none.

export function latestStats(): { containers: ReadonlyMap<string, ContainerSampleView>; hosts: ReadonlyMap<string, HostSampleView> } {
  return { containers: latestSamples(), hosts: latestHostSamples() };
}
