import { createReadStream, createWriteStream } from "node:fs";
import { isInputError } from "../../lib/errors";
import { familiarName, parseReference } from "../../lib/image-reference";
import { AgentError } from "../errors";
import { createImageService } from "../images/create";
import { shortId } from "../images/digest";
import { parsePlatform } from "../images/platform";
import type { RegistryCredentials } from "../images/registry-client";
import type { CommandLine } from "./args";
import { fail, formatSize, progressPrinter, readStdin } from "./output";
import { USAGE } from "./usage";

// pull, images, inspect, rmi, tag, save, load, push: the image store on a
// root no `serve` holds, without the API.

export const IMAGE_COMMANDS = new Set(["pull", "images", "inspect", "rmi", "tag", "save", "load", "push"]);

export async function imageCommand(cl: CommandLine): Promise<void> {
  const { command, args, values } = cl;
  let credentials: RegistryCredentials | undefined;
  if (values.username) {
    const password = values["password-stdin"] ? await readStdin() : values.password;
    if (!password) fail("--username needs --password or --password-stdin", 2);
    credentials = { username: values.username, password };
  }
  const images = await createImageService(cl.engine.root, { ...cl.registry, credentials: () => credentials });
  const json = values.json;
  const need = (n: number, what: string) => {
    if (args.length < n) fail(`"${command}" needs ${what}\n\n${USAGE}`, 2);
  };

  switch (command) {
    case "pull": {
      need(1, "an image reference");
      const record = await images.pull(args[0]!, {
        platform: values.platform ? parsePlatform(values.platform) : undefined,
        progress: progressPrinter(json),
      });
      if (!json) process.stdout.write(`${familiarName(parseReference(args[0]!))}\n`);
      else process.stdout.write(JSON.stringify({ id: record.id }) + "\n");
      return;
    }
    case "images": {
      const list = images.list();
      if (json) return void process.stdout.write(JSON.stringify(list) + "\n");
      const rows = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]];
      for (const img of list) {
        const tags = img.repoTags.length ? img.repoTags : ["<none>:<none>"];
        for (const t of tags) {
          const fam = t === "<none>:<none>" ? t : familiarName(parseReference(t));
          const i = fam.lastIndexOf(":");
          rows.push([fam.slice(0, i), fam.slice(i + 1), shortId(img.id), img.created ?? "", formatSize(img.size)]);
        }
      }
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      for (const r of rows) process.stdout.write(r.map((v, c) => v.padEnd(widths[c]! + 3)).join("").trimEnd() + "\n");
      return;
    }
    case "inspect": {
      need(1, "an image");
      process.stdout.write(JSON.stringify(await images.inspect(args[0]!), null, 2) + "\n");
      return;
    }
    case "rmi": {
      need(1, "at least one image");
      let failed = false;
      for (const key of args) {
        try {
          for (const line of await images.remove(key, { force: values.force })) {
            process.stdout.write("Untagged" in line ? `Untagged: ${line.Untagged}\n` : `Deleted: ${line.Deleted}\n`);
          }
        } catch (e) {
          if (!(e instanceof AgentError) && !isInputError(e)) throw e;
          process.stderr.write(`Error: ${e.message}\n`);
          failed = true;
        }
      }
      if (failed) process.exit(1);
      return;
    }
    case "tag":
      need(2, "a source and a target");
      await images.tag(args[0]!, args[1]!);
      return;
    case "save": {
      need(1, "at least one image");
      if (!values.output && process.stdout.isTTY) fail("refusing to write a tar archive to a terminal; use -o FILE", 2);
      const out = values.output ? createWriteStream(values.output) : process.stdout;
      await images.save(args, out);
      return;
    }
    case "load": {
      const input = values.input ? createReadStream(values.input) : process.stdin;
      await images.load(input, (line) => process.stdout.write(line + "\n"));
      return;
    }
    case "push": {
      need(1, "an image reference");
      await images.push(args[0]!, { progress: progressPrinter(json) });
      return;
    }
  }
}
