/**
 * The command line: option definitions and dispatch. The work itself is in commands.ts and lab-commands.ts, loaded
 * only when a command runs. Usage problems print one line on stderr and exit 2; nothing prints a stack trace unless
 * IOT_DOCTOR_DEBUG is set.
 */
import yargs, { type Argv } from 'yargs';
import { UsageError } from './errors.js';
import { FORMATS } from './report/formats.js';
import { TOOL_VERSION } from './version.js';

const ARRAY_OPTIONS = new Set(['connect-to', 'connectTo', 'resolve', 'routes', 'format']);

function commands(): Promise<typeof import('./commands.js')> {
  return import('./commands.js');
}

function labCommands(): Promise<typeof import('./lab-commands.js')> {
  return import('./lab-commands.js');
}

function credentialOptions<T>(y: Argv<T>) {
  return y
    .option('cert', { type: 'string', describe: 'device certificate (PEM, DER or .p12)', requiresArg: true })
    .option('key', { type: 'string', describe: 'device private key (PEM or DER)', requiresArg: true })
    .option('ca', {
      type: 'string',
      describe: 'CA file that should verify the endpoint (default: bundled Amazon roots)',
      requiresArg: true,
    })
    .option('key-passphrase', {
      type: 'string',
      describe: 'passphrase of an encrypted key (or env IOT_DOCTOR_KEY_PASSPHRASE)',
      requiresArg: true,
    })
    .option('warn-days', {
      type: 'number',
      describe: 'warn when the certificate expires within this many days',
      default: 30,
    });
}

function checkOptions<T>(y: Argv<T>) {
  return credentialOptions(y)
    .option('endpoint', {
      alias: 'e',
      type: 'string',
      describe: 'AWS IoT data endpoint (iot:Data-ATS host name)',
      requiresArg: true,
    })
    .option('routes', {
      type: 'string',
      array: true,
      describe: 'routes to probe: mqtt-8883, mqtt-443, https-8443, https-443 (default all)',
    })
    .option('timeout', { type: 'number', describe: 'deadline of each network step, ms', default: 5000 })
    .option('connect-to', {
      type: 'string',
      array: true,
      describe: 'HOST:PORT:ADDRESS:PORT: connect elsewhere, keep SNI and name checks (like curl)',
    })
    .option('resolve', {
      type: 'string',
      array: true,
      describe: 'HOST:PORT:ADDRESS: use this address instead of DNS (like curl)',
    })
    .option('dns-server', {
      type: 'string',
      describe: 'ask this DNS server (ADDR[:PORT]) instead of the system resolver',
      requiresArg: true,
    })
    .option('client-id', {
      type: 'string',
      describe: 'MQTT client id (default: a unique iot-doctor-<random>)',
      requiresArg: true,
    })
    .option('topic', {
      type: 'string',
      describe: 'test topic (default iot-doctor/<client-id>/probe)',
      requiresArg: true,
    })
    .option('mqtt-version', {
      type: 'string',
      choices: ['3.1.1', '5'],
      default: '3.1.1',
      describe: 'MQTT protocol version',
    })
    .option('protocol', {
      type: 'boolean',
      default: true,
      describe: 'run the MQTT/HTTPS stages (--no-protocol: stop after the TLS and client-certificate stages)',
    })
    .option('keepalive', { type: 'number', default: 30, describe: 'MQTT keep-alive, seconds' })
    .option('region', { type: 'string', describe: 'AWS region (default: from the endpoint name)', requiresArg: true })
    .option('profile', { type: 'string', describe: 'AWS profile for the cloud checks', requiresArg: true })
    .option('cloud', {
      type: 'boolean',
      default: true,
      describe: 'run the cloud checks through the AWS IoT API (--no-cloud: never call AWS)',
    })
    .option('cloud-only', {
      type: 'boolean',
      default: false,
      describe: 'only the cloud checks (needs --cert or --certificate-id, or --from)',
    })
    .option('from', {
      type: 'string',
      describe: 'report.json of another run: run the cloud checks for it and merge them in',
      requiresArg: true,
    })
    .option('api-endpoint', {
      type: 'string',
      describe: 'AWS IoT API endpoint URL (or env AWS_ENDPOINT_URL_IOT): VPC, FIPS, the lab',
      requiresArg: true,
    })
    .option('certificate-id', {
      type: 'string',
      describe: 'AWS IoT certificate id, when the certificate file is not at hand',
      requiresArg: true,
    });
}

/** `--repeat N [--interval MS]`: probe the routes N times, files read once (src/repeat.ts). */
function repeatOptions<T>(y: Argv<T>) {
  return y
    .option('repeat', {
      type: 'number',
      describe: 'probe the routes N times (files read once); adds per-stage p50/p95/max and failure share',
      requiresArg: true,
    })
    .option('interval', { type: 'number', describe: 'pause between --repeat attempts, ms (default 1000)', requiresArg: true });
}

/** `serve`: the exporter's address, configuration, deadline offset and concurrency (src/serve). */
function serveOptions<T>(y: Argv<T>) {
  return y
    .option('listen', {
      type: 'string',
      demandOption: true,
      requiresArg: true,
      describe: 'HOST:PORT to bind, and nothing else (e.g. 127.0.0.1:9115)',
    })
    .option('config', {
      type: 'string',
      demandOption: true,
      requiresArg: true,
      describe: 'YAML (or JSON) file with modules: of check options by long name; SIGHUP reloads it',
    })
    .option('timeout-offset', {
      type: 'number',
      default: 0.5,
      describe: 'seconds taken off the scrape timeout (X-Prometheus-Scrape-Timeout-Seconds) for the probe deadline',
    })
    .option('max-concurrent', { type: 'number', default: 8, describe: 'probes running at once; more wait, then get 503' });
}

function outputOptions<T>(y: Argv<T>) {
  return y
    .option('format', {
      alias: 'f',
      type: 'string',
      array: true,
      describe:
        `output on stdout: ${FORMATS.join(', ')} (default table); ` +
        'several (junit,html) are also written into --output',
    })
    .option('output', {
      alias: 'o',
      type: 'string',
      default: 'reports',
      describe: 'also write the JSON report (and the --format files) into this folder ("" to skip)',
    })
    .option('redact', {
      type: 'boolean',
      default: false,
      describe: 'remove endpoint prefix, account ids and addresses (for public tickets)',
    })
    .option('site-profile', {
      type: 'string',
      describe: 'what this site must pass: a shipped profile (all-routes, 443-only, mqtt-only) or a JSON file',
      requiresArg: true,
    })
    .option('strict', { type: 'boolean', default: false, describe: 'treat warnings as failures' })
    .option('color', {
      type: 'boolean',
      describe: 'colour the table (default: when stdout is a terminal and NO_COLOR is unset)',
    });
}

/** `cert`: the credential options plus its own output options (default format list, no report folder). */
function certOptions<T>(y: Argv<T>) {
  return credentialOptions(y)
    .option('format', {
      alias: 'f',
      type: 'string',
      array: true,
      describe: `output on stdout: ${FORMATS.join(', ')} (default list)`,
    })
    .option('output', {
      alias: 'o',
      type: 'string',
      default: '',
      describe: 'also write the JSON report (and the --format files) into this folder',
    })
    .option('redact', { type: 'boolean', default: false, describe: 'remove account ids and addresses' })
    .option('strict', { type: 'boolean', default: false, describe: 'treat warnings as failures' })
    .option('color', {
      type: 'boolean',
      describe: 'colour the output (default: when stdout is a terminal and NO_COLOR is unset)',
    });
}

function demoOptions<T>(y: Argv<T>) {
  return repeatOptions(outputOptions(y))
    .option('scenario', {
      alias: 's',
      type: 'string',
      default: 'healthy',
      describe: 'fault to switch on in the lab (see --list)',
    })
    .option('list', { type: 'boolean', default: false, describe: 'list the scenarios and exit' })
    .option('key-type', { type: 'string', choices: ['rsa', 'ec'], default: 'rsa', describe: 'key type of the lab PKI' })
    .option('mqtt-version', {
      type: 'string',
      choices: ['3.1.1', '5'],
      default: '3.1.1',
      describe: 'MQTT protocol version',
    })
    .option('timeout', { type: 'number', default: 3000, describe: 'deadline of each network step, ms' });
}

function labOptions<T>(y: Argv<T>) {
  return y
    .option('scenario', {
      alias: 's',
      type: 'string',
      default: 'healthy',
      describe: 'fault to switch on (iot-doctor demo --list)',
    })
    .option('dir', {
      type: 'string',
      default: 'lab',
      describe: 'folder for ca.pem, device.pem.crt, private.pem.key, lab.json',
    })
    .option('bind', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (loopback only)' })
    .option('allow-non-loopback', {
      type: 'boolean',
      default: false,
      describe: 'allow a non-loopback --bind (inside a test network namespace)',
    })
    .option('port-8883', { type: 'number', default: 0, describe: 'port standing for 8883 (0: any free port)' })
    .option('port-443', { type: 'number', default: 0, describe: 'port standing for 443' })
    .option('port-8443', { type: 'number', default: 0, describe: 'port standing for 8443' })
    .option('control-port', { type: 'number', default: 0, describe: 'port of the IoT API look-alike' })
    .option('key-type', { type: 'string', choices: ['rsa', 'ec'], default: 'rsa', describe: 'key type of the lab PKI' })
    .option('require-sni', {
      type: 'boolean',
      default: true,
      describe: 'refuse a ClientHello without the endpoint name',
    });
}

function renderOptions<T>(y: Argv<T>) {
  return y
    .positional('report', {
      type: 'string',
      describe: 'a report.json written by check, cert or demo',
      demandOption: true,
    })
    .option('format', { alias: 'f', type: 'string', array: true, describe: `${FORMATS.join(', ')} (default table)` })
    .option('output', { alias: 'o', type: 'string', default: '', describe: 'also write the files into this folder' })
    .option('redact', {
      type: 'boolean',
      default: false,
      describe: 'remove endpoint prefix, account ids and addresses',
    })
    .option('strict', { type: 'boolean', default: false, hidden: true })
    .option('color', { type: 'boolean', describe: 'colour the table' });
}

/** A scalar flag given twice: the last one wins (array options such as --connect-to collect every value). */
function lastScalarWins(argv: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(argv)) {
    if (Array.isArray(value) && !ARRAY_OPTIONS.has(key) && key !== '_') argv[key] = value.at(-1);
  }
}

/**
 * Runs the command line `argv` (without `node` and the script: `hideBin(process.argv)`) and resolves to the exit code:
 * 0 nothing failed, 1 a check failed, 2 a tool error the command reported itself. Usage problems (unknown command or
 * flag, bad value) reject with a `UsageError` whose message is the one line to print; bin.ts prints it and exits 2.
 * `--help` and `--version` print and resolve to 0.
 */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('iot-doctor')
    .version(TOOL_VERSION)
    .usage('$0 <command> [options]\n\nDiagnose why a device cannot reach AWS IoT Core.')
    .command(
      'check',
      'probe every route to an endpoint and print the pass/fail matrix',
      (y) => repeatOptions(outputOptions(checkOptions(y))),
      async (args) => {
        exitCode = await (await commands()).checkCommand(args);
      },
    )
    .command('cert', 'check the certificate, key and CA files offline (no network)', certOptions, async (args) => {
      exitCode = await (await commands()).certCommand(args);
    })
    .command(
      'demo',
      'start the built-in lab (a local AWS IoT look-alike), run a full check against it, print the matrix',
      demoOptions,
      async (args) => {
        exitCode = await (await labCommands()).runDemo(args);
      },
    )
    .command(
      'lab',
      'start the lab and keep it running; write its CA, device certificate and key and a ready check command',
      labOptions,
      async (args) => {
        exitCode = await (await labCommands()).runLab(args);
      },
    )
    .command(
      'serve',
      'exporter in the blackbox_exporter style: GET /probe?target=ENDPOINT&module=NAME answers a check as metrics',
      serveOptions,
      async (args) => {
        exitCode = await (await import('./serve/index.js')).serveCommand(args);
      },
    )
    .command(
      'render <report>',
      'render a saved JSON report in another format (table, junit, markdown, html, list, json)',
      renderOptions,
      async (args) => {
        exitCode = (await commands()).renderCommand({ ...args, report: args.report as string });
      },
    )
    .demandCommand(1, 'name a command: check, cert, demo, lab, serve or render (see --help)')
    .middleware((args) => lastScalarWins(args as Record<string, unknown>), true)
    .strict()
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .epilogue(
      'Exit codes: 0 nothing failed, 1 a check failed, 2 usage or tool error ' +
        '(--format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).',
    );
  await parser.parseAsync();
  return exitCode;
}
