/**
 * The processes this one started and left running, on Linux from `/proc` (proc(5): a thread's `children` file, or
 * the parent pid, the fourth field of `/proc/<pid>/stat`, after the command name in parentheses, which may itself
 * hold spaces and parentheses).
 * Used when `check` or `presign` is about to end with something still holding it: a `credential_process` that never
 * ends (the AWS SDK runs it through `/bin/sh`, in the API worker) would otherwise outlive the run, re-parented to
 * init. Elsewhere (no `/proc`) nothing is found and nothing is done.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * The direct children of `pid` from `/proc/<pid>/task/<tid>/children` (one file per thread: the API worker's threads
 * start processes too); undefined when the kernel does not offer these files.
 */
function childrenOf(pid: number): number[] | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return pid === process.pid ? undefined : [];
  }
  const out: number[] = [];
  for (const task of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && pid === process.pid) return undefined;
      continue; // the thread or process ended meanwhile
    }
    for (const word of text.trim().split(/\s+/)) if (word) out.push(Number(word));
  }
  return out;
}

/** Parent pid of every process, from every `/proc/<pid>/stat` (the slow way, when `children` files are missing). */
function parentMap(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isInteger(ppid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  return children;
}

/**
 * Every live descendant of this process (children, their children, …), as pids: from the kernel's per-thread
 * `children` files (a few reads, nothing when there are none), else from every process's `stat`; [] without `/proc`.
 */
export function descendantPids(): number[] {
  let next: (pid: number) => number[];
  if (childrenOf(process.pid) !== undefined) next = (pid) => childrenOf(pid) ?? [];
  else {
    const map = parentMap();
    next = (pid) => map.get(pid) ?? [];
  }
  const out: number[] = [];
  const queue = next(process.pid);
  while (queue.length) {
    const pid = queue.shift()!;
    if (out.includes(pid)) continue;
    out.push(pid);
    queue.push(...next(pid));
  }
  return out;
}

/** Ends (SIGKILL) every process `descendantPids` finds; never throws. */
export function endDescendants(): void {
  for (const pid of descendantPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
