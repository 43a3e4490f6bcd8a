import { describe, expect, it } from "vitest";
import { cleanPath } from "../../../agent/snapshots/apply-layer";
import { chainIds } from "../../../agent/snapshots/chain-id";
import { detectCompression } from "../../../agent/snapshots/decompress";
import { parsePaxRecords, xattrsOf } from "../../../agent/snapshots/pax-records";

const A = "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";
const B = "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d";
const C = "sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6";

/** One PAX record: "<len> key=value\n", len counting itself. */
function record(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from("\n")]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len++;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

describe("chainIds (OCI image spec)", () => {
  it("is the diff ID for the base layer, then sha256(parent + ' ' + diffID)", () => {
    // Expected values from: printf '%s %s' "$A" "$B" | sha256sum
    expect(chainIds([A, B, C])).toEqual([
      A,
      "sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676",
      "sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106",
    ]);
    expect(chainIds([])).toEqual([]);
  });
});

describe("cleanPath (entry names, cleaned like Go's filepath.Clean)", () => {
  it.each([
    ["usr/bin/ls", ["usr", "bin", "ls"]],
    ["./usr//bin/", ["usr", "bin"]],
    ["./", []],
    ["/etc/x", ["etc", "x"]],
    ["a/../b", ["b"]],
    ["a/b/../../c", ["c"]],
    ["/../etc/x", ["etc", "x"]],
    ["/..", []],
  ])("%j -> %j", (name, parts) => {
    expect(cleanPath(name)).toEqual(parts);
  });

  it.each([["../x"], ["../../etc/x"], ["a/../../x"], ["./../x"]])("%j climbs above the root", (name) => {
    expect(cleanPath(name)).toBeNull();
  });
});

describe("PAX records keep binary values byte-exact", () => {
  it("parses text and binary records, including '=' and newlines inside values", () => {
    const capability = Buffer.from("0100000200200000000000000000000000000000", "hex");
    const odd = Buffer.from([0xff, 0xfe, 0x3d, 0x0a, 0x00, 0x80]);
    const body = Buffer.concat([
      record("path", Buffer.from("usr/bin/pïng")),
      record("SCHILY.xattr.security.capability", capability),
      record("SCHILY.xattr.user.odd", odd),
      record("SCHILY.xattr.user.empty", Buffer.alloc(0)),
      Buffer.alloc(30),
    ]);
    const records = parsePaxRecords(body);
    expect(records.get("path")?.toString("utf8")).toBe("usr/bin/pïng");
    const xattrs = xattrsOf(records);
    expect([...xattrs.keys()]).toEqual(["security.capability", "user.odd", "user.empty"]);
    expect(xattrs.get("security.capability")!.equals(capability)).toBe(true);
    expect(xattrs.get("user.odd")!.equals(odd)).toBe(true);
    expect(xattrs.get("user.empty")!.length).toBe(0);
  });

  it.each([["x path=a\n"], ["99 path=a\n"], ["5 ab\n"], ["9 path=a"]])("rejects the malformed record %j", (text) => {
    expect(() => parsePaxRecords(Buffer.from(text))).toThrow(/malformed PAX record/);
  });
});

describe("compression is told by magic bytes", () => {
  it.each([
    [[0x1f, 0x8b, 0x08, 0x00], "gzip"],
    [[0x28, 0xb5, 0x2f, 0xfd], "zstd"],
    [[0x75, 0x73, 0x72, 0x2f], "none"],
    [[0x1f], "none"],
    [[], "none"],
  ])("%j is %s", (bytes, kind) => {
    expect(detectCompression(Buffer.from(bytes))).toBe(kind);
  });
});
