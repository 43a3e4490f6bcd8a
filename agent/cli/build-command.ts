import path from "node:path";
import { familiarName, parseReference } from "../../lib/image-reference";
import { BuildError, buildImage } from "../build/builder";
import { extractContext } from "../build/context";
import { directoryToTar } from "../build/layer-tar";
import { shortId } from "../images/digest";
import { lockRoot } from "../state/root-lock";
import type { CommandLine } from "./args";
import type { OpenAgent } from "./compose";
import { fail } from "./output";
import { USAGE } from "./usage";

/** berth-agent build: a local directory as the context; needs the engine, so no `serve` may hold this root. */
export async function buildCommand(cl: CommandLine, openAgent: OpenAgent): Promise<never> {
  const dir = cl.args[0];
  if (!dir) fail(`"build" needs a context directory\n\n${USAGE}`, 2);
  const buildArgs: Record<string, string> = {};
  for (const a of cl.values["build-arg"]) {
    const i = a.indexOf("=");
    if (i < 1) fail(`--build-arg needs NAME=VALUE, got "${a}"`, 2);
    buildArgs[a.slice(0, i)] = a.slice(i + 1);
  }
  const root = cl.engine.root;
  lockRoot(root);
  const agent = await openAgent(cl.engine, cl.registry);
  const tmpDir = path.join(root, "tmp");
  const context = await extractContext(directoryToTar(path.resolve(dir), { overlay: false }), tmpDir);
  const tags = cl.values.tag;
  let code = 0;
  try {
    const image = await buildImage(
      { engine: agent.engine, io: agent.io, images: agent.images, cache: agent.buildCache, tmpDir },
      { context: context.root, dockerfile: cl.values.file ?? "Dockerfile", tags, buildArgs, labels: {}, noCache: cl.values["no-cache"], output: (t) => void process.stdout.write(t) },
    );
    process.stdout.write(`Successfully built ${shortId(image.id)}\n`);
    for (const t of tags) {
      await agent.images.tag(image.id, t);
      process.stdout.write(`Successfully tagged ${familiarName(parseReference(t))}\n`);
    }
  } catch (e) {
    process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    code = e instanceof BuildError && e.exitCode ? e.exitCode : 1;
  } finally {
    agent.engine.close();
    await context.dispose();
  }
  process.exit(code);
}
