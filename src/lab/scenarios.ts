/**
 * Lab scenarios: each one is a healthy AWS IoT account with exactly one fault switched on, so a diagnosis can be
 * checked against a known cause. A scenario decides how the listeners behave and what the registry holds.
 */
import { FIELD_SCENARIOS, type FieldSetup } from './field-scenarios.js';
import { DEFAULT_DEVICE_NAME, type LabPki } from './lab-pki.js';
import type { LabLogging } from './records.js';
import type { LabRegistry } from './registry.js';
import { credentialScenarios } from './credential-scenarios.js';
import { customAuthScenarios, type CustomAuthFault } from './custom-auth-scenarios.js';
import type { WssIamDecision } from './wss-front.js';

export interface ScenarioInfo {
  name: string;
  /** One line: the fault, and what a device sees. */
  description: string;
  /** `check` flags the device of this scenario is configured with (`demo` passes them), e.g. `role-alias`. */
  checkFlags?: Readonly<Record<string, string>>;
}

export interface ScenarioBehaviour {
  /** 8883: listen, or leave the port closed so connections are refused. */
  mqtt8883: 'listen' | 'refused';
  /** 8443: listen, or accept TCP and never answer the ClientHello. */
  https8443: 'listen' | 'stall';
  /** 443: select x-amzn-mqtt-ca / x-amzn-http-ca when offered, or never select any ALPN protocol. */
  alpn443: 'select' | 'ignore';
  /** Which certificate every listener presents. */
  serverCert: 'lab' | 'expired' | 'intercepted';
  /** Added to the lab clock in the `date` header of data-plane HTTP responses. */
  dateSkewMs: number;
  /** DescribeEndpoint answers with the endpoint of another account. */
  describeEndpoint: 'own' | 'other-account';
  /**
   * The answer to a ClientHello whose SNI is not the endpoint. AWS: "will fail", how is undocumented (facts §2.2),
   * so each plausible variant is selectable: alert 40 (the default, the failure seen in the field), a bare close,
   * alert 112 unrecognized_name, or the handshake completing with the endpoint's usual certificate.
   */
  wrongSni: WrongSniVariant;
}

/** The variants of AWS's unconfirmed reaction to a wrong SNI (facts §2.2). */
export type WrongSniVariant = 'handshake-failure' | 'close' | 'unrecognized-name' | 'default-certificate';

export interface ScenarioDefinition extends ScenarioInfo {
  behaviour: ScenarioBehaviour;
  /** The account's AWS IoT logging options (field notes §7.6); default: on at ERROR (`LAB_LOGGING_ON`). */
  logging?: LabLogging;
  /** IAM actions the caller of the lab's APIs is denied from the start (`faults.api.accessDenied`). */
  apiAccessDenied?: string[];
  /** Another client that connects with the device's client id every `periodMs` (field notes §8). */
  otherDevice?: { periodMs: number };
  /** A custom authorizer in the account and the device configured for it, with one fault (field notes §5). */
  customAuth?: CustomAuthFault;
  /** Whether the lab's IAM lets the WebSocket (SigV4) identity iot:Connect, and where a denial shows (wss-front.ts). */
  wssIam?: WssIamDecision;
  /** Fills the registry: certificates, things, policies, attachments. */
  seed(registry: LabRegistry, pki: LabPki): void;
  /** The site around the lab and the device's settings (src/lab/field-scenarios.ts). */
  field?: FieldSetup;
}

/** Client id and thing name of the default device. */
export const LAB_DEVICE_NAME = DEFAULT_DEVICE_NAME;
/** Topics under this prefix are what iot-doctor's probes use: `iot-doctor/<clientId>/probe`. */
export const LAB_PROBE_TOPIC_PREFIX = 'iot-doctor/';
export const LAB_DEVICE_POLICY = 'lab-device-policy';
export const LAB_FLEET_GROUP = 'lab-fleet';
export const LAB_FLEET_POLICY = 'lab-fleet-telemetry';

const HEALTHY: ScenarioBehaviour = {
  mqtt8883: 'listen',
  https8443: 'listen',
  alpn443: 'select',
  serverCert: 'lab',
  dateSkewMs: 0,
  describeEndpoint: 'own',
  wrongSni: 'handshake-failure',
};

/** One scenario per variant of the reaction to a wrong SNI (facts §2.2: unconfirmed), otherwise healthy. */
function wrongSniScenario(variant: Exclude<WrongSniVariant, 'handshake-failure'>, what: string): ScenarioDefinition {
  return {
    name: `wrong-sni-${variant}`,
    description:
      `Healthy, but a ClientHello naming another host than the endpoint ${what} (AWS's reaction is undocumented; ` +
      'the default is alert 40 handshake_failure).',
    behaviour: { ...HEALTHY, wrongSni: variant },
    seed: (r, p) => seedAccount(r, p),
  };
}

type Arn = (kind: string, name: string) => string;

/**
 * The device policy a careful customer would write: connect with any client id, publish and receive under
 * `iot-doctor/` (in a statement of its own: HTTPS publish has no client id, and a statement whose variables cannot
 * be resolved does not match at all) and on the device's own topics, subscribe only below
 * `iot-doctor/<own client id>/` and the device's own command topics.
 */
export function healthyDevicePolicy(arn: Arn): object {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Connect', Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', '*') },
      {
        Sid: 'Diagnostics',
        Effect: 'Allow',
        Action: ['iot:Publish', 'iot:Receive'],
        Resource: arn('topic', 'iot-doctor/*'),
      },
      {
        Sid: 'DeviceTopics',
        Effect: 'Allow',
        Action: ['iot:Publish', 'iot:Receive'],
        Resource: [arn('topic', 'dt/${iot:ClientId}/*'), arn('topic', 'cmd/${iot:ClientId}/*')],
      },
      {
        Sid: 'Subscribe',
        Effect: 'Allow',
        Action: 'iot:Subscribe',
        Resource: [arn('topicfilter', 'iot-doctor/${iot:ClientId}/*'), arn('topicfilter', 'cmd/${iot:ClientId}/*')],
      },
    ],
  };
}

function fleetPolicy(arn: Arn): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'FleetTelemetry',
        Effect: 'Allow',
        Action: 'iot:Publish',
        Resource: arn('topic', 'fleet/${iot:Connection.Thing.ThingName}/telemetry'),
      },
    ],
  };
}

interface SeedOptions {
  certificate?: 'active' | 'inactive' | 'unregistered';
  /** The policy attached to the device certificate; null: none at all. */
  policy?: ((arn: Arn) => object) | null;
  /** More policies attached to the certificate. */
  extraPolicies?: Record<string, (arn: Arn) => object>;
  fleetGroup?: boolean;
  /** Register the device certificate in SNI_ONLY mode (as AWS does for certificates registered without a CA). */
  sniOnly?: boolean;
}

function seedAccount(registry: LabRegistry, pki: LabPki, opts: SeedOptions = {}): void {
  const arn: Arn = (kind, name) => registry.arn(kind, name);
  const ca = registry.registerCACertificate(pki.deviceCa.certPem, {
    status: 'ACTIVE',
    autoRegistrationStatus: 'DISABLE',
  });
  const thing = registry.createThing(LAB_DEVICE_NAME, { attributes: { model: 'lab-sensor', site: 'lab' } });
  const certificate = opts.certificate ?? 'active';
  if (certificate === 'unregistered') return;
  const cert = registry.registerCertificate(pki.device.certPem, {
    status: certificate === 'inactive' ? 'INACTIVE' : 'ACTIVE',
    caCertificateId: ca.certificateId,
    ...(opts.sniOnly ? { certificateMode: 'SNI_ONLY' as const } : {}),
  });
  registry.attachThingPrincipal(thing.thingName, cert.certificateArn);
  const policy = opts.policy === undefined ? healthyDevicePolicy : opts.policy;
  if (policy) {
    registry.createPolicy(LAB_DEVICE_POLICY, policy(arn));
    registry.attachPolicy(LAB_DEVICE_POLICY, cert.certificateArn);
  }
  for (const [name, doc] of Object.entries(opts.extraPolicies ?? {})) {
    registry.createPolicy(name, doc(arn));
    registry.attachPolicy(name, cert.certificateArn);
  }
  if (opts.fleetGroup ?? true) {
    registry.createThingGroup(LAB_FLEET_GROUP);
    registry.addThingToGroup(thing.thingName, LAB_FLEET_GROUP);
    registry.createPolicy(LAB_FLEET_POLICY, fleetPolicy(arn));
    registry.attachPolicyToGroup(LAB_FLEET_POLICY, LAB_FLEET_GROUP);
  }
}

const TEN_MINUTES = 10 * 60_000;

/** Logging as a careful customer sets it up: failures recorded (level ERROR), with a role AWS IoT writes with. */
export const LAB_LOGGING_ON: LabLogging = {
  defaultLogLevel: 'ERROR',
  disableAllLogs: false,
  roleArn: 'arn:aws:iam::123456789012:role/iot-logging',
};

/** The policy of `policy-other-client`: iot:Connect only for client/another-device. */
function otherClientPolicy(arn: Arn): object {
  const doc = healthyDevicePolicy(arn) as { Statement: { Sid: string; Resource: unknown }[] };
  doc.Statement[0] = { ...doc.Statement[0]!, Resource: arn('client', 'another-device') };
  return doc;
}

/** The caller may not read policies nor test them, so only the account's records explain a refusal. */
const NO_POLICY_READS = ['iot:TestAuthorization', 'iot:GetEffectivePolicies', 'iot:GetPolicy'];

/** Scenarios about what AWS IoT records (field notes §7–8). */
const RECORD_SCENARIOS: ScenarioDefinition[] = [
  {
    name: 'duplicate-client-id',
    description:
      `Another device connects as ${LAB_DEVICE_NAME} every 2 s: a session with that client id is taken over (MQTT 5: ` +
      'DISCONNECT 0x8E), the displaced one is recorded as DUPLICATE_CLIENTID.',
    behaviour: HEALTHY,
    otherDevice: { periodMs: 2_000 },
    seed: (r, p) => seedAccount(r, p),
  },
  {
    name: 'connect-denied-logged',
    description:
      'The policy allows iot:Connect only for client/another-device and the caller may not read or test policies ' +
      '(TestAuthorization, GetEffectivePolicies, GetPolicy denied); AWS IoT logging is on (ERROR): only the log ' +
      'record explains the refused CONNECT.',
    behaviour: HEALTHY,
    apiAccessDenied: NO_POLICY_READS,
    seed: (r, p) => seedAccount(r, p, { policy: otherClientPolicy }),
  },
  {
    name: 'logging-off',
    description:
      'As connect-denied-logged, but AWS IoT logging is DISABLED: nothing is recorded, and the refusal can only be ' +
      'inferred.',
    behaviour: HEALTHY,
    apiAccessDenied: NO_POLICY_READS,
    logging: { defaultLogLevel: 'DISABLED', disableAllLogs: false, roleArn: LAB_LOGGING_ON.roleArn! },
    seed: (r, p) => seedAccount(r, p, { policy: otherClientPolicy }),
  },
];

/** The routes a WebSocket scenario's device checks: the default four and mqtt-wss-443. */
const WSS_ROUTES = 'mqtt-8883,mqtt-443,https-8443,https-443,mqtt-wss-443';

export const SCENARIO_DEFINITIONS: readonly ScenarioDefinition[] = [
  {
    name: 'healthy',
    description: 'No fault: every route connects, publishes and receives; the API answers as for a healthy account.',
    behaviour: HEALTHY,
    seed: (r, p) => seedAccount(r, p),
  },
  {
    name: 'port-8883-refused',
    description: 'Nothing listens on the 8883 port: TCP connections are refused; 443 and 8443 work.',
    behaviour: { ...HEALTHY, mqtt8883: 'refused' },
    seed: (r, p) => seedAccount(r, p),
  },
  {
    name: 'tls-stall-8443',
    description: '8443 accepts TCP but never answers the ClientHello: the TLS handshake times out; 8883 and 443 work.',
    behaviour: { ...HEALTHY, https8443: 'stall' },
    seed: (r, p) => seedAccount(r, p),
  },
  {
    name: 'alpn-ignored',
    description:
      '443 never selects ALPN (as when the client cannot send it): MQTT gets no CONNACK, HTTPS gets 403 "Missing ' +
      'Authentication Token".',
    behaviour: { ...HEALTHY, alpn443: 'ignore' },
    seed: (r, p) => seedAccount(r, p),
  },
  {
    name: 'tls-intercepted',
    description:
      'A TLS-inspecting proxy: every port presents an endpoint certificate signed by "Corporate TLS Inspection CA", ' +
      'no client certificate gets through, 443 drops ALPN.',
    behaviour: { ...HEALTHY, serverCert: 'intercepted', alpn443: 'ignore' },
    seed: (r, p) => seedAccount(r, p),
  },
  {
    name: 'server-cert-expired',
    description: 'The endpoint presents an expired server certificate: certificate verification fails on every port.',
    behaviour: { ...HEALTHY, serverCert: 'expired' },
    seed: (r, p) => seedAccount(r, p),
  },
  {
    name: 'clock-skew',
    description:
      'The server clock is 10 minutes ahead of the device: HTTP date headers show the skew; connections work.',
    behaviour: { ...HEALTHY, dateSkewMs: TEN_MINUTES },
    seed: (r, p) => seedAccount(r, p),
  },
  {
    name: 'cert-inactive',
    description:
      'The device certificate is registered but INACTIVE: TLS completes, MQTT 3.1.1 is closed after CONNECT (MQTT ' +
      '5: CONNACK 0x87), HTTPS 403.',
    behaviour: HEALTHY,
    seed: (r, p) => seedAccount(r, p, { certificate: 'inactive' }),
  },
  {
    name: 'cert-not-registered',
    description:
      'The device certificate is not registered in the account (its CA is): TLS completes, MQTT is closed after ' +
      'CONNECT, HTTPS 403, DescribeCertificate ResourceNotFound.',
    behaviour: HEALTHY,
    seed: (r, p) => seedAccount(r, p, { certificate: 'unregistered' }),
  },
  {
    name: 'no-policy',
    description:
      'The certificate is ACTIVE but has no policy attached: MQTT 3.1.1 is closed after CONNECT (MQTT 5: CONNACK ' +
      '0x87), HTTPS publish 403.',
    behaviour: HEALTHY,
    seed: (r, p) => seedAccount(r, p, { policy: null, fleetGroup: false }),
  },
  {
    name: 'policy-other-client',
    description:
      'The policy allows iot:Connect only for client/another-device: any other client id is closed after CONNECT ' +
      '(MQTT 5: CONNACK 0x87); HTTPS publish works.',
    behaviour: HEALTHY,
    seed: (r, p) => seedAccount(r, p, { policy: otherClientPolicy }),
  },
  {
    name: 'policy-no-publish',
    description:
      'Connect and subscribe are allowed but not publishing on iot-doctor/*: MQTT 3.1.1 is closed at the PUBLISH, ' +
      'MQTT 5 gets PUBACK 0x87, HTTPS 403.',
    behaviour: HEALTHY,
    seed: (r, p) =>
      seedAccount(r, p, {
        policy: (arn) => ({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'Connect', Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', '*') },
            { Sid: 'Receive', Effect: 'Allow', Action: 'iot:Receive', Resource: arn('topic', 'iot-doctor/*') },
            {
              Sid: 'Telemetry',
              Effect: 'Allow',
              Action: 'iot:Publish',
              Resource: arn('topic', 'dt/${iot:ClientId}/*'),
            },
            {
              Sid: 'Subscribe',
              Effect: 'Allow',
              Action: 'iot:Subscribe',
              Resource: arn('topicfilter', 'iot-doctor/${iot:ClientId}/*'),
            },
          ],
        }),
      }),
  },
  {
    name: 'policy-explicit-deny',
    description:
      'A second policy explicitly denies iot:Publish on iot-doctor/*, overriding the allow: TestAuthorization says ' +
      'EXPLICIT_DENY; publishing fails as in policy-no-publish.',
    behaviour: HEALTHY,
    seed: (r, p) =>
      seedAccount(r, p, {
        extraPolicies: {
          'deny-diagnostics': (arn) => ({
            Version: '2012-10-17',
            Statement: [
              { Sid: 'NoDiagnostics', Effect: 'Deny', Action: 'iot:Publish', Resource: arn('topic', 'iot-doctor/*') },
            ],
          }),
        },
      }),
  },
  {
    name: 'endpoint-other-account',
    description:
      "The device is configured with an endpoint that is not this account's: DescribeEndpoint returns a different " +
      'prefix; the data plane itself works.',
    behaviour: { ...HEALTHY, describeEndpoint: 'other-account' },
    seed: (r, p) => seedAccount(r, p),
  },
  ...RECORD_SCENARIOS,
  wrongSniScenario('close', 'is closed without an alert'),
  wrongSniScenario('unrecognized-name', 'gets alert 112 unrecognized_name'),
  wrongSniScenario('default-certificate', "completes with the endpoint's usual certificate"),
  ...credentialScenarios(HEALTHY, (r, p) => seedAccount(r, p)),
  ...customAuthScenarios(HEALTHY, (r, p) => seedAccount(r, p)),
  ...wssScenarios(),
  ...FIELD_SCENARIOS.map((f): ScenarioDefinition => ({
    name: f.name,
    description: f.description,
    behaviour: HEALTHY,
    seed: (r, p) => seedAccount(r, p, { sniOnly: f.field.sniOnlyCert ?? false }),
    field: f.field,
  })),
];

/** MQTT over WebSocket (SigV4) scenarios (field notes §4.2): the device is configured for the route mqtt-wss-443. */
function wssScenarios(): ScenarioDefinition[] {
  const make = (name: string, description: string, more: Partial<ScenarioDefinition>): ScenarioDefinition => ({
    name,
    description,
    behaviour: HEALTHY,
    checkFlags: { routes: WSS_ROUTES },
    seed: (r, p) => seedAccount(r, p),
    ...more,
  });
  return [
    make('wss-ok', 'MQTT over WebSocket: the SigV4-signed upgrade is accepted and MQTT works over it.', {}),
    make(
      'wss-clock-skew',
      "MQTT over WebSocket: the endpoint's clock is 10 minutes ahead: the signature is refused (403).",
      {
        behaviour: { ...HEALTHY, dateSkewMs: TEN_MINUTES },
      },
    ),
    make(
      'wss-region-mismatch',
      'MQTT over WebSocket: the device signs for us-west-2, the endpoint is in eu-west-1 (403).',
      {
        checkFlags: { routes: WSS_ROUTES, region: 'us-west-2' },
      },
    ),
    make(
      'wss-denied-upgrade',
      'MQTT over WebSocket: IAM does not allow the identity iot:Connect; AWS refuses the upgrade (403).',
      {
        wssIam: 'deny-at-upgrade',
      },
    ),
    make(
      'wss-denied-no-simulate',
      'MQTT over WebSocket: IAM denies iot:Connect (403 at the upgrade); the caller may not iam:SimulatePrincipalPolicy.',
      { wssIam: 'deny-at-upgrade', apiAccessDenied: ['iam:SimulatePrincipalPolicy'] },
    ),
    make(
      'wss-denied-connect',
      'MQTT over WebSocket: IAM does not allow iot:Connect; the upgrade passes, the CONNECT is closed.',
      {
        wssIam: 'deny-at-connect',
      },
    ),
  ];
}

export const SCENARIOS: ScenarioInfo[] = SCENARIO_DEFINITIONS.map(({ name, description, checkFlags }) => ({
  name,
  description,
  ...(checkFlags ? { checkFlags } : {}),
}));

/** The scenario named `name`; throws an Error listing the known names when there is none. */
export function scenarioDefinition(name: string): ScenarioDefinition {
  const def = SCENARIO_DEFINITIONS.find((s) => s.name === name);
  if (!def) {
    const known = SCENARIO_DEFINITIONS.map((s) => s.name).join(', ');
    throw new Error(`unknown lab scenario "${name}"; known scenarios: ${known}`);
  }
  return def;
}
