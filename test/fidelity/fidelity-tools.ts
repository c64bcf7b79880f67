/**
 * Standard clients for the fidelity suite: openssl s_client, mosquitto_pub/sub and curl, run as child processes
 * against a running lab, reaching it under the endpoint's own name (curl --connect-to; mosquitto through the lab's
 * SOCKS5 proxy, which resolves the name the way a site proxy does). None of iot-doctor's own code is used.
 */
import { spawn } from 'node:child_process';
import { startLab, type Lab, type LabOptions } from '../../src/lab/index.js';
import { startLabProxy, type LabProxy } from '../../src/lab/field-proxy.js';

/** What a finished command printed and its exit code (null when it was killed at the deadline). */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for tools that print diagnostics on either. */
  all: string;
}

/** Runs `cmd args` with `input` on stdin, killed after `timeoutMs` (SIGTERM). Never rejects. */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs ?? 10_000);
    child.on('error', () => undefined);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, all: stdout + stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** A lab with its files on disk and a SOCKS5 proxy that maps `<endpoint>:<AWS port>` to the lab's listeners. */
export interface FidelityLab {
  lab: Lab;
  files: { ca: string; cert: string; key: string };
  proxy: LabProxy;
  close(): Promise<void>;
}

/** Starts a lab (`opts`), writes its files and starts the SOCKS5 proxy. */
export async function startFidelityLab(opts: LabOptions = {}): Promise<FidelityLab> {
  const lab = await startLab({ mqtt5: 'auto', ...opts });
  const files = await lab.writeFiles();
  const ports: Record<number, number> = { 8883: lab.ports.mqtt8883, 443: lab.ports.tls443, 8443: lab.ports.https8443 };
  const proxy = await startLabProxy({
    kind: 'socks5',
    bind: '127.0.0.1',
    upstream: (host, port) => (host === lab.endpoint && ports[port] ? { host: lab.bind, port: ports[port]! } : null),
  });
  return {
    lab,
    files,
    proxy,
    close: async () => {
      await proxy.close();
      await lab.close();
    },
  };
}

/** `openssl s_client` to the lab's `port` listener with the device's files, then `args`; stdin closed at once. */
export function sClient(f: FidelityLab, port: 8883 | 443 | 8443, args: string[]): Promise<RunResult> {
  const listener = port === 8883 ? f.lab.ports.mqtt8883 : port === 443 ? f.lab.ports.tls443 : f.lab.ports.https8443;
  const base = ['s_client', '-connect', `${f.lab.bind}:${listener}`, '-CAfile', f.files.ca];
  return run('openssl', [...base, '-cert', f.files.cert, '-key', f.files.key, ...args], { timeoutMs: 8_000 });
}

/** mosquitto_pub or mosquitto_sub (`tool`) to `<endpoint>:8883` through the proxy with the device's files. */
export function mosquitto(
  f: FidelityLab,
  tool: 'pub' | 'sub',
  args: string[],
  timeoutMs = 8_000,
  input?: string,
): Promise<RunResult> {
  const base = ['-h', f.lab.endpoint, '-p', '8883', '--proxy', `socks5h://127.0.0.1:${f.proxy.port}`];
  const tlsArgs = ['--cafile', f.files.ca, '--cert', f.files.cert, '--key', f.files.key];
  // Line-buffered, so that what a client killed at the deadline printed is not lost in its stdio buffer.
  const command = ['-oL', '-eL', `mosquitto_${tool}`, ...base, ...tlsArgs, ...args];
  return run('stdbuf', command, { timeoutMs, ...(input ? { input } : {}) });
}

/** curl to `https://<endpoint>:8443<path>` (via --connect-to) with the device's files, then `args`. */
export function curl(f: FidelityLab, path: string, args: string[], input?: string): Promise<RunResult> {
  const connectTo = `${f.lab.endpoint}:8443:${f.lab.bind}:${f.lab.ports.https8443}`;
  const tlsArgs = ['--cacert', f.files.ca, '--cert', f.files.cert, '--key', f.files.key];
  const url = `https://${f.lab.endpoint}:8443${path}`;
  const command = ['-sS', '-D', '-', '-o', '/dev/null', '--connect-to', connectTo, ...tlsArgs, ...args, url];
  return run('curl', command, input ? { input } : {});
}

/** The certificates `openssl s_client -showcerts` printed, as ` N s:<subject>` lines' subjects, leaf first. */
export function chainSubjects(out: string): string[] {
  return [...out.matchAll(/^ \d+ s:(.*)$/gm)].map((m) => m[1]!.trim());
}
