import { describe, expect, it } from "vitest";
import { localAddressKind, LocalRegistryRefused, RegistryAddressGuard } from "../../../agent/images/registry-address";

describe("registry address guard", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.5.6.7", "loopback"],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["169.254.169.254", "link-local"],
    ["fe80::1", "link-local"],
    ["febf::1", "link-local"],
    ["::ffff:169.254.1.1", "link-local"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
  ])("%s is %s", (ip, kind) => {
    expect(localAddressKind(ip)).toBe(kind);
  });

  it.each(["10.0.0.1", "192.168.1.1", "172.16.0.1", "128.0.0.1", "169.255.0.1", "2001:db8::1", "fec0::1", "::2", "::ffff:10.0.0.1", "registry.example"])("%s is not local", (ip) => {
    expect(localAddressKind(ip)).toBeNull();
  });

  it("refuses a local address unless its endpoint (host and port, default ports spelled out) is allowed", () => {
    const guard = new RegistryAddressGuard(["127.0.0.1:5000", "LocalHost:5001", "[::1]:5002", "registry.internal"]);
    expect(() => guard.checkLiteral(new URL("http://127.0.0.1:5000/v2/"))).not.toThrow();
    expect(() => guard.checkLiteral(new URL("http://127.0.0.1:5432/v2/"))).toThrow(LocalRegistryRefused);
    expect(() => guard.checkLiteral(new URL("http://[::1]:5002/v2/"))).not.toThrow();
    expect(() => guard.checkLiteral(new URL("http://[::1]:5003/v2/"))).toThrow(/\[::1\]:5003 is a loopback address/);
    expect(() => guard.check("localhost:5001", "127.0.0.1")).not.toThrow();
    expect(() => guard.check("localhost:5000", "127.0.0.1")).toThrow(/--allow-local-registry localhost:5000/);
    // A bare host allows its default ports.
    expect(() => guard.check("registry.internal:443", "169.254.0.9")).not.toThrow();
    expect(() => guard.check("registry.internal:8443", "169.254.0.9")).toThrow(/link-local/);
    // Ordinary addresses need no allowing.
    expect(() => guard.checkLiteral(new URL("https://10.1.2.3/v2/"))).not.toThrow();
  });

  it("checks the addresses a name resolves to, at lookup: the socket gets only checked ones", async () => {
    const guard = new RegistryAddressGuard([]);
    const lookup = (url: string, all: boolean) =>
      new Promise<unknown>((resolve, reject) => guard.lookupFor(new URL(url))("localhost", { all }, (err, address) => (err ? reject(err) : resolve(address))));
    await expect(lookup("http://localhost:5000/v2/", false)).rejects.toThrow(/localhost:5000 resolves to (127\.0\.0\.1|::1), a loopback address/);
    await expect(lookup("http://localhost:5000/v2/", true)).rejects.toBeInstanceOf(LocalRegistryRefused);
    const allowed = new RegistryAddressGuard(["localhost:5000"]);
    const address = await new Promise((resolve, reject) => allowed.lookupFor(new URL("http://localhost:5000/"))("localhost", {}, (err, a) => (err ? reject(err) : resolve(a))));
    expect(localAddressKind(address as string)).toBe("loopback");
  });
});
