/**
 * Runs the lab as a process of its own, with the same flags and the same files as `iot-doctor lab`, for the e2e
 * bed when the CLI has no `lab` command:
 *
 *   node dist/test/e2e/lab-host.js --scenario healthy --dir DIR --bind 198.51.100.2 --allow-non-loopback \
 *     --port-8883 8883 --port-443 443 --port-8443 8443 [--control-port 0] [--max-seconds 300]
 *
 * Writes DIR/ca.pem, DIR/device.pem.crt, DIR/private.pem.key (0600) and DIR/lab.json, then prints "lab ready".
 * Stops on SIGTERM/SIGINT, when stdin (a pipe from the parent) closes, or after --max-seconds.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { fstatSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startLab } from '../../src/lab/index.js';

function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const name = a.slice(2);
    if (name === 'allow-non-loopback') {
      out.set(name, 'true');
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    out.set(name, value);
  }
  return out;
}

function port(args: Map<string, string>, name: string): number {
  const raw = args.get(name) ?? '0';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name}: not a port: ${raw}`);
  return n;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = resolve(args.get('dir') ?? 'lab');
  const lab = await startLab({
    scenario: args.get('scenario') ?? 'healthy',
    bind: args.get('bind') ?? '127.0.0.1',
    allowNonLoopback: args.get('allow-non-loopback') === 'true',
    ports: {
      mqtt8883: port(args, 'port-8883'),
      tls443: port(args, 'port-443'),
      https8443: port(args, 'port-8443'),
      control: port(args, 'control-port'),
    },
    log: (line) => process.stderr.write(`lab: ${line}\n`),
  });
  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`lab: stopping (${why})\n`);
    await lab.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  const maxSeconds = Number(args.get('max-seconds') ?? '600');
  setTimeout(() => void stop('max-seconds'), maxSeconds * 1000).unref();
  const stdin = fstatSync(0);
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on('data', () => {});
    process.stdin.on('end', () => void stop('stdin closed'));
    process.stdin.on('error', () => void stop('stdin error'));
  }

  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'ca.pem'), lab.caPem);
  await writeFile(join(dir, 'device.pem.crt'), lab.device.certPem);
  await writeFile(join(dir, 'private.pem.key'), lab.device.keyPem, { mode: 0o600 });
  await chmod(join(dir, 'private.pem.key'), 0o600);
  await writeFile(
    join(dir, 'lab.json'),
    JSON.stringify(
      {
        endpoint: lab.endpoint,
        ports: lab.ports,
        apiEndpoint: lab.apiEndpoint,
        clientId: lab.device.clientId,
        certificateId: lab.device.certificateId,
        scenario: lab.scenario.name,
      },
      null,
      2,
    ) + '\n',
  );
  process.stdout.write('lab ready\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`lab: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
