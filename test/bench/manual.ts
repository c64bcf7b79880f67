/**
 * The manual sequence of issue 16, as a technician types it, one command after another in the client namespace:
 * an `openssl s_client` handshake per route (8883; 443 with ALPN x-amzn-mqtt-ca; 8443; 443 with ALPN x-amzn-http-ca),
 * a QoS 1 `mosquitto_pub` on each MQTT route (8883, 443 with ALPN), and a `curl` POST to the HTTPS publish API on 8443.
 * Every command must succeed (verified chain, ALPN selected, PUBACK, HTTP 200); a failure stops the bench.
 */
import type { Bed, RunResult, TunClient } from '../e2e/bed.js';
import type { RunningLab } from '../e2e/doctor.js';
import { round } from './figures.js';

/** The tools the sequence needs. */
export const MANUAL_TOOLS = ['openssl', 'mosquitto_pub', 'curl'] as const;

/** One manual sequence: its wall time and each command's. */
export interface ManualRun {
  totalMs: number;
  steps: { step: string; ms: number }[];
}

async function mustRun(bed: Bed, ns: string, cmd: string, args: string[]): Promise<RunResult> {
  const res = await bed.run(ns, cmd, args, { input: '', timeoutMs: 30_000 });
  if (res.exitCode !== 0) {
    const out = (res.stderr || res.stdout).trim().slice(0, 800);
    throw new Error(`${cmd} ${args.join(' ')} exited ${res.exitCode ?? res.signal}: ${out}`);
  }
  return res;
}

/** Run the sequence once: 4 × openssl s_client, 2 × mosquitto_pub, 1 × curl. */
export async function manualSequence(bed: Bed, client: TunClient, lab: RunningLab): Promise<ManualRun> {
  const ep = lab.endpoint;
  const { ca, cert, key } = lab.files;
  const topic = 'iot-doctor/manual/probe';
  const payload = '{"probe":"by hand"}';
  const steps: { step: string; ms: number }[] = [];
  const started = performance.now();
  const step = async (
    name: string,
    cmd: string,
    args: string[],
    check: (r: RunResult) => string | null,
  ): Promise<void> => {
    const res = await mustRun(bed, client.ns, cmd, args);
    const problem = check(res);
    if (problem) throw new Error(`${name}: ${problem}`);
    steps.push({ step: name, ms: round(res.durationMs) });
  };
  const routes: [number, string?][] = [[8883], [443, 'x-amzn-mqtt-ca'], [8443], [443, 'x-amzn-http-ca']];
  for (const [port, alpn] of routes) {
    const args = ['s_client', '-connect', `${ep}:${port}`, '-servername', ep, ...(alpn ? ['-alpn', alpn] : [])];
    args.push('-CAfile', ca, '-cert', cert, '-key', key, '-verify_hostname', ep, '-verify_return_error');
    await step(`openssl s_client ${port}${alpn ? ` -alpn ${alpn}` : ''}`, 'openssl', args, (r) =>
      !/Verify return code: 0/.test(r.stdout)
        ? 'chain not verified'
        : alpn && !r.stdout.includes(`ALPN protocol: ${alpn}`)
          ? `ALPN ${alpn} not selected`
          : null,
    );
  }
  const mosq = (port: number, alpn?: string): string[] => [
    '-h',
    ep,
    '-p',
    String(port),
    '--cafile',
    ca,
    '--cert',
    cert,
    '--key',
    key,
    ...(alpn ? ['--tls-alpn', alpn] : []),
    '-q',
    '1',
    '-i',
    `manual-${port}`,
    '-t',
    topic,
    '-m',
    payload,
    '-d',
  ];
  const acked = (r: RunResult): string | null => (/received PUBACK/.test(r.stdout + r.stderr) ? null : 'no PUBACK');
  await step('mosquitto_pub 8883 -q 1', 'mosquitto_pub', mosq(8883), acked);
  await step('mosquitto_pub 443 --tls-alpn x-amzn-mqtt-ca -q 1', 'mosquitto_pub', mosq(443, 'x-amzn-mqtt-ca'), acked);
  const curlArgs = ['-sS', '-f', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', ca, '--cert', cert, '--key', key];
  curlArgs.push(
    '-X',
    'POST',
    '-H',
    'content-type: application/json',
    '-d',
    payload,
    `https://${ep}:8443/topics/${topic}?qos=1`,
  );
  await step('curl POST 8443 /topics', 'curl', curlArgs, (r) =>
    r.stdout.trim() === '200' ? null : `HTTP ${r.stdout.trim()}`,
  );
  return { totalMs: round(performance.now() - started), steps };
}
