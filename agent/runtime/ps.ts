import { execFile } from "node:child_process";
import { AgentError } from "../errors";

// The host's ps(1), for `docker top`: its table, cut down to the given
// processes (a container's, by host PID). `psArgs` are ps's own options.

export interface ProcessTable {
  Titles: string[];
  Processes: string[][];
}

export async function processTable(pids: ReadonlySet<number>, psArgs: string): Promise<ProcessTable> {
  const output = await new Promise<string>((resolve, reject) =>
    execFile("ps", psArgs.split(/\s+/).filter(Boolean), { maxBuffer: 8 << 20 }, (err, stdout) => (err ? reject(new AgentError("INTERNAL", `ps failed: ${err.message}`)) : resolve(stdout))),
  );
  const lines = output.trimEnd().split("\n");
  const titles = lines[0]!.trim().split(/\s+/);
  const pidColumn = titles.indexOf("PID");
  if (pidColumn < 0) throw new AgentError("INTERNAL", `Couldn't find PID field in ps output`);
  const processes = lines
    .slice(1)
    .map((line) => {
      const fields = line.trim().split(/\s+/);
      // The last column (the command) keeps its spaces.
      const head = fields.slice(0, titles.length - 1);
      return [...head, fields.slice(titles.length - 1).join(" ")];
    })
    .filter((row) => pids.has(Number(row[pidColumn])));
  return { Titles: titles, Processes: processes };
}
