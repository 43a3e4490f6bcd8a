// PAX extended header records ("<len> <key>=<value>\n"), keeping values as
// raw bytes. tar-stream decodes values as UTF-8 strings, which replaces
// invalid sequences with U+FFFD, so binary xattrs such as security.capability
// would not survive it; Go's archive/tar (what Docker writes layers with)
// stores them as raw bytes.

export type RawPaxRecords = Map<string, Buffer>;

/** Parses one PAX header body. Throws on malformed records (the caller reports a corrupt layer). */
export function parsePaxRecords(body: Uint8Array): RawPaxRecords {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const records: RawPaxRecords = new Map();
  let offset = 0;
  while (offset < buf.length) {
    // Bodies are padded with NULs to the block size.
    if (buf[offset] === 0) break;
    const space = buf.indexOf(0x20, offset);
    const lengthText = space === -1 ? "" : buf.toString("latin1", offset, space);
    const length = /^[0-9]{1,9}$/.test(lengthText) ? Number(lengthText) : NaN;
    const end = offset + length;
    if (!Number.isFinite(length) || end > buf.length || end <= space + 1 || buf[end - 1] !== 0x0a) {
      throw new Error(`malformed PAX record at byte ${offset}`);
    }
    const equals = buf.indexOf(0x3d, space + 1);
    if (equals === -1 || equals >= end - 1) throw new Error(`malformed PAX record at byte ${offset}`);
    const key = buf.toString("utf8", space + 1, equals);
    records.set(key, Buffer.from(buf.subarray(equals + 1, end - 1)));
    offset = end;
  }
  return records;
}

const XATTR_PREFIX = "SCHILY.xattr.";

/** Extended attributes from `SCHILY.xattr.<name>` records, values byte-exact. */
export function xattrsOf(records: RawPaxRecords): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [key, value] of records) {
    if (key.startsWith(XATTR_PREFIX) && key.length > XATTR_PREFIX.length) out.set(key.slice(XATTR_PREFIX.length), value);
  }
  return out;
}
