import { AGENT_VERSION, API_VERSION } from "../version";
import type { CommandLine } from "./args";
import { buildCommand } from "./build-command";
import type { OpenAgent } from "./compose";
import { dialStdio } from "./dial-stdio";
import { IMAGE_COMMANDS, imageCommand } from "./image-commands";
import { fail } from "./output";
import { teardownCommand } from "./teardown-command";
import { USAGE } from "./usage";

/** Every command but `serve` (main.ts runs that). */
export async function runCommand(cl: CommandLine, openAgent: OpenAgent): Promise<void> {
  const { command, values } = cl;
  if (!command || values.help) {
    process.stdout.write(USAGE);
    process.exit(command || values.help ? 0 : 2);
  }
  if (command === "version") {
    process.stdout.write(values.json ? JSON.stringify({ Version: AGENT_VERSION, ApiVersion: API_VERSION }) + "\n" : `berth-agent ${AGENT_VERSION} (Docker API ${API_VERSION})\n`);
    return;
  }
  if (command === "dial-stdio") return dialStdio(cl.socket);
  if (command === "build") return buildCommand(cl, openAgent);
  if (command === "teardown") return teardownCommand(cl, openAgent);
  if (IMAGE_COMMANDS.has(command)) return imageCommand(cl);
  fail(`unknown command "${command}"\n\n${USAGE}`, 2);
}
