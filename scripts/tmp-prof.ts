import { mkdtemp } from "node:fs/promises";
import os from "node:os"; import path from "node:path";
import { createImageService } from "../agent/images/create";
import { startRegistry } from "../test/fixtures/registry";
import { skopeoCopy } from "../test/fixtures/skopeo";
import { buildBigImage } from "../test/fixtures/test-images";
const work = await mkdtemp(path.join(os.tmpdir(), "prof-"));
const reg = await startRegistry({ auth: "none" });
const img = await buildBigImage(path.join(work, "big"));
const ref = `${reg.host}/bench/big:v1`;
await skopeoCopy(`oci:${img.layoutDir}:${img.tag}`, `docker://${ref}`);
for (let i = 0; i < 2; i++) {
  const images = await createImageService(await mkdtemp(path.join(work, "a-")));
  const t0 = performance.now();
  const marks: string[] = [];
  await images.pull(ref, { progress: (e) => { if (!e.progressDetail) marks.push(`${(performance.now()-t0).toFixed(0)} ${e.id ?? ""} ${e.status}`); } });
  console.log(`total ${(performance.now()-t0).toFixed(0)}ms`); if (i===1) console.log(marks.join("\n"));
}
await reg.stop();
