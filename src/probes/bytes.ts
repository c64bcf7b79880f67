/** Naming the bytes a peer sent when they are not the protocol expected (middlebox, other service). */

/**
 * What unexpected bytes from a peer look like, for a message: length, the first bytes in hex and as text when printable,
 * e.g. `12 bytes: 48 54 54 50 2f 31 2e 31 … ("HTTP/1.1 …")`.
 */
export function describeBytes(bytes: Buffer, total = bytes.length): string {
  const head = bytes.subarray(0, 16);
  const hex = [...head].map((b) => b.toString(16).padStart(2, '0')).join(' ') + (bytes.length > 16 ? ' …' : '');
  const text = head.toString('latin1');
  const printable = /^[\x20-\x7e\r\n\t]+$/.test(text)
    ? ` ("${text.replace(/[\r\n\t]/g, ' ').trim()}${bytes.length > 16 ? ' …' : ''}")`
    : '';
  return `${total} ${total === 1 ? 'byte' : 'bytes'}: ${hex}${printable}`;
}
