import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { errorCode } from './errors.js';

/**
 * Create folder DIR and its missing parents one level at a time (never `mkdirSync(…, { recursive: true })`, which
 * loops forever on /proc and other pseudo file systems that answer ENOENT to every mkdir). Walks up to the nearest
 * existing ancestor, then makes each missing level non-recursively. Throws an Error with one short message:
 * "<ancestor> is a file, not a folder" when a parent is a file (e.g. /dev/null/x), "a file of that name exists" when
 * DIR itself is a file, otherwise the system error (EACCES, ENOENT on /proc, EROFS …).
 */
export function makeOutputDir(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    const kind = pathKind(at);
    if (kind === 'dir') break;
    if (kind === 'file') {
      throw new Error(missing.length === 0 ? 'a file of that name exists' : `${at} is a file, not a folder`);
    }
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (err) {
      // A concurrent run may have made the same level: fine if it is a folder now.
      if (errorCode(err) !== 'EEXIST' || pathKind(level) !== 'dir') throw err;
    }
  }
}

function pathKind(path: string): 'dir' | 'file' | 'none' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch (err) {
    const code = errorCode(err);
    // ENOTDIR: some ancestor is a file; the walk up finds which.
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'none';
    throw err;
  }
}
