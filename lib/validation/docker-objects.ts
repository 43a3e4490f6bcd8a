import { z } from "zod";
import { imageReferenceProblem } from "../deploy/spec";

// How the console and the REST API name a container, network or volume (an id,
// a unique prefix of one, or a name) and an image (an id or a reference). These
// go into the agent's API paths: "." or ".." would be resolved there to another
// endpoint (GET /containers/./json is the list), so anything that isn't an id
// or a name in Docker's own syntax is refused here, with a 400 naming the field.

/** Docker's syntax for container, network and volume names; ids (hex) fit it too. */
const OBJECT_REF = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const IMAGE_ID = /^(sha256:)?[a-f0-9]{1,64}$/;

/** A container, network or volume: its id, a unique prefix of it, or its name. */
export const dockerObjectRefSchema = z
  .string()
  .trim()
  .min(1, "enter an id or a name")
  .max(255)
  .regex(OBJECT_REF, "use an id or a name: letters, digits, _ . - (starting with a letter or digit)");

/** An image: its id (sha256:…, or a prefix) or a reference (name[:tag][@digest]). */
export const dockerImageRefSchema = z
  .string()
  .trim()
  .min(1, "enter an image id or reference")
  .max(512)
  .superRefine((value, ctx) => {
    if (IMAGE_ID.test(value)) return;
    const problem = imageReferenceProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: `not an image id (sha256:…) or reference: ${problem}` });
  });
