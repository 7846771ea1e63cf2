/** A syntactically valid public key blob of the given type, filled with a recognisable byte. */
export function fakeKeyBlob(type: string, fill: number): Buffer {
  const name = Buffer.from(type);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(name.length);
  return Buffer.concat([head, name, Buffer.alloc(32, fill)]);
}
