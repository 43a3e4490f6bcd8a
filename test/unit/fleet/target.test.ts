import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { sshAuthSchema, sshEndpointSchema } from "../../../server/fleet/ssh/target";

const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n";

/** The first message of a failed parse for each path (what a form shows). */
function issues(schema: z.ZodType, input: unknown): Record<string, string> {
  const result = schema.safeParse(input);
  expect(result.success).toBe(false);
  const first: Record<string, string> = {};
  for (const i of result.error!.issues) first[i.path.join(".")] ??= i.message;
  return first;
}

describe("fleet/ssh/target", () => {
  describe("sshAuthSchema", () => {
    it("accepts a private key (with or without passphrase) and a password", () => {
      expect(sshAuthSchema.parse({ method: "key", privateKey: PRIVATE_KEY })).toEqual({ method: "key", privateKey: PRIVATE_KEY });
      expect(sshAuthSchema.parse({ method: "key", privateKey: "-----BEGIN RSA PRIVATE KEY-----\n…", passphrase: "pp" })).toMatchObject({ passphrase: "pp" });
      expect(sshAuthSchema.parse({ method: "password", password: "pw" })).toEqual({ method: "password", password: "pw" });
    });

    it("rejects text that is not a private key", () => {
      for (const privateKey of ["", "hunter2", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 me@host", "-----BEGIN PUBLIC KEY-----"]) {
        expect(issues(sshAuthSchema, { method: "key", privateKey })).toEqual({
          privateKey: "paste the private key, starting with -----BEGIN … PRIVATE KEY-----",
        });
      }
    });

    it("rejects an overlong private key", () => {
      expect(issues(sshAuthSchema, { method: "key", privateKey: PRIVATE_KEY + "A".repeat(16 * 1024) }).privateKey).toBe("private key is too long");
    });

    it("rejects an empty password", () => {
      expect(issues(sshAuthSchema, { method: "password", password: "" })).toEqual({ password: "enter the password" });
    });

    it("rejects an unknown method", () => {
      expect(sshAuthSchema.safeParse({ method: "agent" }).success).toBe(false);
    });
  });

  describe("sshEndpointSchema", () => {
    it("accepts hostnames, IPv4 and IPv6 addresses, and defaults the port to 22", () => {
      for (const address of ["example.com", "host-1", "a.b-c.d", "10.0.0.1", "::1", "fe80::1", "2001:db8::42"]) {
        expect(sshEndpointSchema.parse({ address, username: "root" })).toEqual({ address, port: 22, username: "root" });
      }
    });

    it("trims address and username", () => {
      expect(sshEndpointSchema.parse({ address: " example.com ", port: 2222, username: " deploy " })).toEqual({
        address: "example.com",
        port: 2222,
        username: "deploy",
      });
    });

    it("accepts the usual user names", () => {
      for (const username of ["root", "_svc", "deploy.bot", "ci-runner", "Admin", "machine$"]) {
        expect(sshEndpointSchema.parse({ address: "h", username }).username).toBe(username);
      }
    });

    it("rejects bad addresses with a friendly message", () => {
      for (const address of ["not a host!", "a..b", ".example.com", "example.com.", "-host", "host_name", "x".repeat(64), "1.2.3.4 5"]) {
        expect(issues(sshEndpointSchema, { address, username: "root" })).toEqual({ address: "not a hostname or IP address" });
      }
      expect(issues(sshEndpointSchema, { address: "  ", username: "root" })).toEqual({ address: "enter the host's address" });
    });

    it("rejects ports outside 1–65535", () => {
      for (const port of [0, 70000, -1, 22.5]) {
        expect(Object.keys(issues(sshEndpointSchema, { address: "h", port, username: "root" }))).toEqual(["port"]);
      }
    });

    it("rejects bad user names with a friendly message", () => {
      for (const username of ["1root", "-x", "root user", "us@er", "a$b", "ro:ot"]) {
        expect(issues(sshEndpointSchema, { address: "h", username })).toEqual({ username: "not a valid user name" });
      }
      expect(Object.keys(issues(sshEndpointSchema, { address: "h", username: "" }))).toEqual(["username"]);
      expect(Object.keys(issues(sshEndpointSchema, { address: "h", username: "u".repeat(33) }))).toEqual(["username"]);
    });
  });
});
