import { removeCgroupParent } from "../runtime/cgroup-parent";
import { lockRoot } from "../state/root-lock";
import type { CommandLine } from "./args";
import type { OpenAgent } from "./compose";

/**
 * berth-agent teardown: stopping the agent for good. Every container goes
 * (volumes and images stay), then our bridges, nftables table and cgroup parent.
 */
export async function teardownCommand(cl: CommandLine, openAgent: OpenAgent): Promise<never> {
  lockRoot(cl.engine.root);
  const agent = await openAgent(cl.engine);
  let failed = false;
  for (const c of agent.engine.list()) {
    await agent.engine.remove(c.id, { force: true }).catch((e: unknown) => {
      failed = true;
      process.stderr.write(`Error: removing ${c.name}: ${e instanceof Error ? e.message : String(e)}\n`);
    });
  }
  agent.engine.close();
  await agent.network.teardown();
  // runc removed each container's cgroups; the parent they lived under stays in every hierarchy unless we remove it.
  const cgroups = await removeCgroupParent(cl.engine.cgroupParent);
  for (const dir of cgroups.left) process.stderr.write(`Error: cgroup ${dir} could not be removed (processes still in it?)\n`);
  if (!failed && !cgroups.left.length) process.stdout.write("berth-agent: containers removed, networking torn down, cgroups removed\n");
  process.exit(failed || cgroups.left.length ? 1 : 0);
}
