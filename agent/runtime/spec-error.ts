import { AgentError } from "../errors";

/** The container's settings can't make a valid runtime spec (dockerd's wording where it has one). */
export class SpecError extends AgentError<"INVALID"> {
  override name = "SpecError";
  constructor(message: string) {
    super("INVALID", message);
  }
}
