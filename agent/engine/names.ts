import { randomInt } from "node:crypto";
import { EngineError } from "./errors";

// Docker-style generated names: adjective_surname, with a number on collision.
const ADJECTIVES = ["agile", "bold", "brave", "calm", "clever", "eager", "fair", "gentle", "happy", "keen", "lucid", "merry", "nimble", "proud", "quiet", "sharp", "steady", "swift", "tender", "vivid", "wise", "zealous"];
const NAMES = ["archimedes", "babbage", "curie", "darwin", "euler", "faraday", "gauss", "hopper", "hypatia", "kepler", "lovelace", "mayer", "noether", "pascal", "ritchie", "shannon", "tesla", "thompson", "turing", "wozniak"];

export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NAMES[randomInt(NAMES.length)]}`;
    const name = attempt < 10 ? base : `${base}${randomInt(1000)}`;
    if (!taken(name)) return name;
  }
  throw new EngineError("INTERNAL", "could not generate a free container name; name the container");
}
