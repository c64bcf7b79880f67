/**
 * The command line: option definitions (as data, see cli-args.ts) and dispatch. The work itself is in commands.ts and
 * lab-commands.ts, loaded only when a command runs, so `--help` and usage errors load nothing but this file. Usage
 * problems print one line on stderr and exit 2; nothing prints a stack trace unless IOT_DOCTOR_DEBUG is set.
 */
import { parseCommandLine, type CommandSpec, type OptionSpec, type ProgramSpec } from './cli-args.js';
import { FIELD_OPTIONS } from './cli-field.js';
import { FORMATS } from './report/formats.js';
import { TOOL_VERSION } from './version.js';

const CREDENTIAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'cert', type: 'string', describe: 'device certificate (PEM, DER or .p12)' },
  { name: 'key', type: 'string', describe: 'device private key (PEM or DER)' },
  { name: 'ca', type: 'string', describe: 'CA file that should verify the endpoint (default: bundled Amazon roots)' },
  {
    name: 'key-passphrase',
    type: 'string',
    describe: 'passphrase of an encrypted key (or env IOT_DOCTOR_KEY_PASSPHRASE)',
    emptyOk: true,
  },
  {
    name: 'warn-days',
    type: 'number',
    default: 30,
    describe: 'warn when the certificate expires within this many days',
  },
];

const MQTT_VERSION: OptionSpec = {
  name: 'mqtt-version',
  type: 'string',
  choices: ['3.1.1', '5'],
  default: '3.1.1',
  describe: 'MQTT protocol version',
};

const CHECK_OPTIONS: readonly OptionSpec[] = [
  ...CREDENTIAL_OPTIONS,
  { name: 'endpoint', alias: 'e', type: 'string', describe: 'AWS IoT data endpoint (iot:Data-ATS host name)' },
  {
    name: 'routes',
    type: 'string',
    array: true,
    describe:
      'routes to probe: mqtt-8883, mqtt-443, https-8443, https-443 (default), credentials-443, mqtt-custom-auth-443, ' +
      'mqtt-wss-443 (default too when AWS credentials are in the environment, a profile or a default profile in the ' +
      'shared files; an EC2 instance role alone is not looked up)',
    // parseRoutes (src/target.ts) says what an empty list lacks, naming the routes.
    emptyOk: true,
  },
  {
    name: 'timeout',
    type: 'number',
    default: 5000,
    describe: 'deadline of the whole run, ms (every network step ends by it)',
  },
  {
    name: 'connect-to',
    type: 'string',
    array: true,
    describe: 'HOST:PORT:ADDRESS:PORT: connect elsewhere, keep SNI and name checks (like curl)',
  },
  {
    name: 'resolve',
    type: 'string',
    array: true,
    describe: 'HOST:PORT:ADDRESS: use this address instead of DNS (like curl)',
  },
  { name: 'dns-server', type: 'string', describe: 'ask this DNS server (ADDR[:PORT]) instead of the system resolver' },
  { name: 'client-id', type: 'string', describe: 'MQTT client id (default: a unique iot-doctor-<random>)' },
  // emptyOk: the topic check itself says `--topic "" is empty` (an MQTT topic name has at least one character).
  { name: 'topic', type: 'string', emptyOk: true, describe: 'test topic (default iot-doctor/<client-id>/probe)' },
  MQTT_VERSION,
  { name: 'role-alias', type: 'string', describe: 'role alias: adds the credentials-443 route' },
  {
    name: 'thing-name',
    type: 'string',
    describe:
      'thing for cloud.connectivity (default: attached to the cert) and x-amzn-iot-thingname for credentials-443',
  },
  {
    name: 'credentials-endpoint',
    type: 'string',
    describe: 'credential-provider host (default: DescribeEndpoint iot:CredentialProvider)',
  },
  { name: 'authorizer', type: 'string', describe: 'custom authorizer name: adds the mqtt-custom-auth-443 route' },
  { name: 'token', type: 'string', describe: 'custom-auth token, a secret (or env IOT_DOCTOR_TOKEN)' },
  { name: 'token-key-name', type: 'string', describe: "the authorizer's tokenKeyName the token travels under" },
  {
    name: 'token-signature',
    type: 'string',
    describe: 'base64 RSA-SHA256 token signature (or env IOT_DOCTOR_TOKEN_SIGNATURE)',
  },
  {
    name: 'token-signing-key',
    type: 'string',
    describe: 'RSA private key FILE: sign the token here (instead of --token-signature)',
  },
  { name: 'username', type: 'string', describe: 'MQTT username for custom auth (the authorizer query is appended)' },
  {
    name: 'password',
    type: 'string',
    describe: 'MQTT password for custom auth, a secret (or env IOT_DOCTOR_PASSWORD)',
  },
  {
    name: 'protocol',
    type: 'boolean',
    default: true,
    describe: 'run the MQTT/HTTPS stages (--no-protocol: stop after the TLS and client-certificate stages)',
  },
  { name: 'keepalive', type: 'number', default: 30, describe: 'MQTT keep-alive, seconds' },
  { name: 'region', type: 'string', describe: 'AWS region (default: from the endpoint name)' },
  { name: 'profile', type: 'string', describe: 'AWS profile for the cloud checks' },
  {
    name: 'cloud',
    type: 'boolean',
    default: true,
    describe: 'run the cloud checks through the AWS IoT API (--no-cloud: never call AWS, no default mqtt-wss-443)',
  },
  {
    name: 'cloud-only',
    type: 'boolean',
    default: false,
    describe: 'only the cloud checks (needs --cert or --certificate-id, or --from)',
  },
  { name: 'log-group', type: 'string', describe: 'CloudWatch Logs group of the AWS IoT logs (default AWSIotLogsV2)' },
  {
    name: 'logs',
    type: 'boolean',
    default: true,
    describe: "read AWS IoT's logs in CloudWatch for this run (--no-logs: skip cloud.logs)",
  },
  {
    name: 'hold-ms',
    type: 'number',
    describe: 'hold each MQTT session this long, watching for a takeover (default 3000 with --client-id, else 0)',
  },
  {
    name: 'from',
    type: 'string',
    describe: 'report.json of another run: run the cloud checks for it and merge them in',
  },
  {
    name: 'api-endpoint',
    type: 'string',
    describe: 'AWS IoT API endpoint URL (or env AWS_ENDPOINT_URL_IOT): VPC, FIPS, the lab',
  },
  {
    name: 'certificate-id',
    type: 'string',
    describe: 'AWS IoT certificate id, when the certificate file is not at hand',
  },
];

/** `--repeat N [--interval MS]`: probe the routes N times, files read once (src/repeat.ts). */
const REPEAT_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'repeat',
    type: 'number',
    describe: 'probe the routes N times (files read once); adds per-stage p50/p95/max and failure share',
  },
  { name: 'interval', type: 'number', describe: 'pause between --repeat attempts, ms (default 1000)' },
];

/** `serve`: the exporter's address, configuration, deadline offset and concurrency (src/serve). */
const SERVE_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'listen',
    type: 'string',
    required: true,
    describe: 'HOST:PORT to bind, and nothing else (e.g. 127.0.0.1:9115)',
  },
  {
    name: 'config',
    type: 'string',
    required: true,
    describe: 'YAML (or JSON) file with modules: of check options by long name; SIGHUP reloads it',
  },
  {
    name: 'timeout-offset',
    type: 'number',
    default: 0.5,
    describe: 'seconds taken off the scrape timeout (X-Prometheus-Scrape-Timeout-Seconds) for the probe deadline',
  },
  { name: 'max-concurrent', type: 'number', default: 8, describe: 'probes running at once; more wait, then get 503' },
];

const OUTPUT_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'format',
    alias: 'f',
    type: 'string',
    array: true,
    describe: `output on stdout: ${FORMATS.join(', ')} (default table); several (junit,html) are also written into --output`,
  },
  {
    name: 'output',
    alias: 'o',
    type: 'string',
    emptyOk: true,
    default: 'reports',
    describe: 'also write the JSON report (and the --format files) into this folder ("" to skip)',
  },
  {
    name: 'redact',
    type: 'boolean',
    default: false,
    describe: 'remove endpoint prefix, account ids and addresses (for public tickets)',
  },
  {
    name: 'site-profile',
    type: 'string',
    describe: 'what this site must pass: a shipped profile (all-routes, 443-only, mqtt-only) or a JSON file',
  },
  { name: 'strict', type: 'boolean', default: false, describe: 'treat warnings as failures' },
  {
    name: 'color',
    type: 'boolean',
    describe: 'colour the table (default: when stdout is a terminal and NO_COLOR is unset)',
  },
];

/** `cert`: the credential options plus its own output options (default format list, no report folder). */
const CERT_OPTIONS: readonly OptionSpec[] = [
  ...CREDENTIAL_OPTIONS,
  {
    name: 'format',
    alias: 'f',
    type: 'string',
    array: true,
    describe: `output on stdout: ${FORMATS.join(', ')} (default list)`,
  },
  {
    name: 'output',
    alias: 'o',
    type: 'string',
    emptyOk: true,
    default: '',
    describe: 'also write the JSON report (and the --format files) into this folder',
  },
  { name: 'redact', type: 'boolean', default: false, describe: 'remove account ids and addresses' },
  { name: 'strict', type: 'boolean', default: false, describe: 'treat warnings as failures' },
  {
    name: 'color',
    type: 'boolean',
    describe: 'colour the output (default: when stdout is a terminal and NO_COLOR is unset)',
  },
];

const KEY_TYPE: OptionSpec = {
  name: 'key-type',
  type: 'string',
  choices: ['rsa', 'ec'],
  default: 'rsa',
  describe: 'key type of the lab PKI',
};

const DEMO_OPTIONS: readonly OptionSpec[] = [
  ...OUTPUT_OPTIONS,
  ...REPEAT_OPTIONS,
  {
    name: 'scenario',
    alias: 's',
    type: 'string',
    default: 'healthy',
    describe: 'fault to switch on in the lab (see --list)',
  },
  { name: 'list', type: 'boolean', default: false, describe: 'list the scenarios and exit' },
  KEY_TYPE,
  MQTT_VERSION,
  {
    name: 'timeout',
    type: 'number',
    default: 3000,
    describe: 'deadline of the whole run, ms (every network step ends by it)',
  },
];

const LAB_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'scenario',
    alias: 's',
    type: 'string',
    default: 'healthy',
    describe: 'fault to switch on (iot-doctor demo --list)',
  },
  {
    name: 'dir',
    type: 'string',
    default: 'lab',
    describe: 'folder for ca.pem, device.pem.crt, private.pem.key, lab.json (and proxy-url, token: mode 0600)',
  },
  { name: 'bind', type: 'string', default: '127.0.0.1', describe: 'address to listen on (loopback only)' },
  {
    name: 'allow-non-loopback',
    type: 'boolean',
    default: false,
    describe: 'allow a non-loopback --bind (inside a test network namespace)',
  },
  { name: 'port-8883', type: 'number', default: 0, describe: 'port standing for 8883 (0: any free port)' },
  { name: 'port-443', type: 'number', default: 0, describe: 'port standing for 443' },
  { name: 'port-8443', type: 'number', default: 0, describe: 'port standing for 8443' },
  { name: 'control-port', type: 'number', default: 0, describe: 'port of the IoT API look-alike' },
  KEY_TYPE,
  {
    name: 'require-sni',
    type: 'boolean',
    default: false,
    describe: 'refuse a ClientHello without SNI (alert 40), as for SNI-only certificates',
  },
];

const RENDER_OPTIONS: readonly OptionSpec[] = [
  { name: 'format', alias: 'f', type: 'string', array: true, describe: `${FORMATS.join(', ')} (default table)` },
  {
    name: 'output',
    alias: 'o',
    type: 'string',
    default: '',
    emptyOk: true,
    describe: 'also write the files into this folder',
  },
  { name: 'redact', type: 'boolean', default: false, describe: 'remove endpoint prefix, account ids and addresses' },
  { name: 'strict', type: 'boolean', default: false, hidden: true, describe: 'treat warnings as failures' },
  { name: 'color', type: 'boolean', describe: 'colour the table' },
];

const PRESIGN_OPTIONS: readonly OptionSpec[] = [
  { name: 'endpoint', alias: 'e', type: 'string', describe: 'the iot:Data-ATS endpoint the URL is for (required)' },
  { name: 'region', type: 'string', describe: "region to sign for (default: AWS_REGION, else the endpoint's)" },
  {
    name: 'profile',
    type: 'string',
    describe: 'AWS profile whose credentials sign (default: the SDK credential chain)',
  },
  { name: 'scheme', type: 'string', default: 'wss', describe: 'wss (WebSocket clients) or https (curl)' },
  { name: 'timeout', alias: 't', type: 'number', describe: 'credential lookup deadline in ms (default 5000)' },
];

const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'check',
    describe: 'probe every route to an endpoint and print the pass/fail matrix',
    options: [...CHECK_OPTIONS, ...FIELD_OPTIONS, ...OUTPUT_OPTIONS, ...REPEAT_OPTIONS],
  },
  { name: 'cert', describe: 'check the certificate, key and CA files offline (no network)', options: CERT_OPTIONS },
  {
    name: 'demo',
    describe: 'start the built-in lab (a local AWS IoT look-alike), run a full check against it, print the matrix',
    options: DEMO_OPTIONS,
  },
  {
    name: 'lab',
    describe: 'start the lab and keep it running; write its CA, device certificate and key and a ready check command',
    options: LAB_OPTIONS,
  },
  {
    name: 'serve',
    describe:
      'exporter in the blackbox_exporter style: GET /probe?target=ENDPOINT&module=NAME answers a check as metrics',
    options: SERVE_OPTIONS,
  },
  {
    name: 'render',
    describe: `render a saved JSON report in another format (${FORMATS.join(', ')})`,
    positional: { name: 'report', describe: 'a report.json written by check, cert or demo' },
    options: RENDER_OPTIONS,
  },
  {
    name: 'presign',
    describe:
      'print the SigV4-signed WebSocket URL (GET /mqtt, service iotdevicegateway) for your AWS credentials, as ' +
      'mqtt-wss-443 signs it; it holds your access key id and session token: keep it private',
    options: PRESIGN_OPTIONS,
  },
  {
    name: 'explain',
    describe: 'explain a diagnosis code (meaning, how it is decided, look-alikes, remedy, commands); alone: all codes',
    positional: { name: 'code', describe: 'a finding code, e.g. CLOCK_SKEW', optional: true },
    options: [{ name: 'markdown', type: 'boolean', default: false, describe: 'print the whole catalogue as Markdown' }],
  },
];

/** The program as the parser and the help see it. */
export const PROGRAM: ProgramSpec = {
  name: 'iot-doctor',
  version: TOOL_VERSION,
  about: 'Diagnose why a device cannot reach AWS IoT Core.',
  commands: COMMANDS,
  epilogue:
    'Exit codes: 0 nothing failed, 1 a check failed, 2 usage or tool error ' +
    '(--format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).',
  noCommand: 'name a command: check, cert, demo, lab, serve, render, presign or explain (see --help)',
};

/** Runs one parsed command (each validates its own arguments); resolves to its exit code. */
async function dispatch(command: string, args: Record<string, unknown>): Promise<number> {
  if (command === 'demo' || command === 'lab') {
    const lab = await import('./lab-commands.js');
    return command === 'demo'
      ? lab.runDemo(args as unknown as Parameters<typeof lab.runDemo>[0])
      : lab.runLab(args as unknown as Parameters<typeof lab.runLab>[0]);
  }
  if (command === 'serve') {
    const serve = await import('./serve/index.js');
    return serve.serveCommand(args as unknown as Parameters<typeof serve.serveCommand>[0]);
  }
  if (command === 'explain') return (await import('./catalogue/command.js')).explainCommand(args);
  if (command === 'presign') return (await import('./presign.js')).presignCommand(args);
  // A full check builds its target and starts the routes' DNS and TCP before loading the rest (issue 16).
  const prepared = command === 'check' ? (await import('./check-start.js')).startCheck(args) : undefined;
  const commands = await import('./commands.js');
  if (command === 'check') {
    return commands.checkCommand(args as unknown as Parameters<typeof commands.checkCommand>[0], prepared);
  }
  if (command === 'cert') return commands.certCommand(args as unknown as Parameters<typeof commands.certCommand>[0]);
  return commands.renderCommand(args as unknown as Parameters<typeof commands.renderCommand>[0]);
}

/**
 * Runs the command line `argv` (without `node` and the script) and resolves to the exit code: 0 nothing failed, 1 a
 * check failed, 2 a tool error the command reported itself. Usage problems (unknown command or flag, bad value)
 * reject with a `UsageError` whose message is the one line to print; bin.ts prints it and exits 2. `--help` and
 * `--version` print on stdout and resolve to 0.
 */
export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(PROGRAM, argv, Math.min(110, process.stdout.columns || 100));
  if (parsed.kind === 'print') {
    process.stdout.write(`${parsed.text}\n`);
    return 0;
  }
  return dispatch(parsed.command, parsed.args);
}
