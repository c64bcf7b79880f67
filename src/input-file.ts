/**
 * Reading a file the user named on the command line, bounded: only a regular file is opened for reading (a FIFO, a
 * device such as /dev/zero, a socket or a directory is named and refused, never read or waited on), and only up to a
 * size cap, so that no input can hang the run or grow its memory. Every refusal is a `UsageError` with one line.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { UsageError, errorCode, errorMessage } from './errors.js';

/** Cap for device credential files (certificate, key, CA bundle, PKCS#12): a 300-certificate bundle is ~600 KB. */
export const CREDENTIAL_FILE_MAX_BYTES = 4 * 1024 * 1024;
/** Cap for a saved JSON report read back (`render`, `--from`): a large real report is well under 1 MB. */
export const REPORT_FILE_MAX_BYTES = 16 * 1024 * 1024;
/** Cap for small configuration files (site profile, serve configuration, token signing key). */
export const CONFIG_FILE_MAX_BYTES = 1024 * 1024;

/** What to say about the file in a message: `label` ("the certificate file"), `flag` ("--cert"), the size cap. */
export interface InputFileSpec {
  /** Noun phrase naming the file after "cannot read ", e.g. `the certificate file`, `the report`, `profile`. */
  label: string;
  /** The flag or argument it came from, e.g. `--cert`; omitted for positional arguments. */
  flag?: string;
  /** Upper bound in bytes; a larger file is refused before it is read. */
  maxBytes: number;
}

/** Human size: `4 MB`, `512 KB`, `17 bytes` (powers of 1024). */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}

function kindOf(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO), not a regular file';
  if (st.isCharacterDevice()) return 'a character device, not a regular file';
  if (st.isBlockDevice()) return 'a block device, not a regular file';
  if (st.isSocket()) return 'a socket, not a regular file';
  return 'not a regular file';
}

function openReason(err: unknown): string {
  const code = errorCode(err);
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'a directory';
  if (code === 'ENOTDIR') return 'a part of the path is not a directory';
  if (code === 'ELOOP') return 'too many symbolic links';
  if (code === 'ENXIO') return 'a socket or device without a reader, not a regular file';
  return errorMessage(err);
}

function refuse(spec: InputFileSpec, path: string, why: string): UsageError {
  const from = spec.flag ? ` given with ${spec.flag}` : '';
  return new UsageError(`cannot read ${spec.label}${from} (${path}): ${why}`);
}

function readCapped(fd: number, spec: InputFileSpec, path: string): Buffer {
  // Read at most maxBytes + 1: a file that grows after fstat (or lies about its size) is still refused.
  const buf = Buffer.alloc(Math.min(spec.maxBytes + 1, 64 * 1024));
  const parts: Buffer[] = [];
  let total = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, spec.maxBytes + 1 - total), null);
    if (n === 0) break;
    parts.push(Buffer.from(buf.subarray(0, n)));
    total += n;
    if (total > spec.maxBytes) throw refuse(spec, path, `larger than ${formatBytes(spec.maxBytes)}`);
  }
  return Buffer.concat(parts, total);
}

/**
 * Reads the whole of `path` if it is a regular file of at most `spec.maxBytes` bytes. The file is opened
 * non-blocking, so a FIFO without a writer does not wait; it is then checked with `fstat` on the open descriptor (no
 * race between check and read) and read up to the cap.
 * @throws UsageError naming the path and why: missing, unreadable, a directory, a FIFO, a device, a socket, too large.
 */
export function readInputFile(path: string, spec: InputFileSpec): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw refuse(spec, path, openReason(err));
  }
  try {
    const st = fstatSync(fd);
    const kind = kindOf(st);
    if (kind) throw refuse(spec, path, kind);
    if (st.size > spec.maxBytes) {
      const size = formatBytes(st.size) === formatBytes(spec.maxBytes) ? `${st.size} bytes` : formatBytes(st.size);
      throw refuse(spec, path, `${size}, larger than the ${formatBytes(spec.maxBytes)} accepted`);
    }
    return readCapped(fd, spec, path);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw refuse(spec, path, openReason(err));
  } finally {
    closeSync(fd);
  }
}

/** `readInputFile` decoded as UTF-8 (a leading byte-order mark is kept; callers that parse JSON strip it). */
export function readInputText(path: string, spec: InputFileSpec): string {
  return readInputFile(path, spec).toString('utf8');
}

/**
 * Reads a device credential file named by `flag` (`--cert`, `--key`, `--ca`): `readInputFile` with the
 * credential-file cap and the label `the <what> file`.
 * @throws UsageError as `readInputFile`.
 */
export function readCredentialFile(path: string, what: string, flag: string): Buffer {
  return readInputFile(path, { label: `the ${what} file`, flag, maxBytes: CREDENTIAL_FILE_MAX_BYTES });
}
