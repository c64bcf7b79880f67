import { describe, expect, it } from 'vitest';
import {
  evaluate,
  parsePolicy,
  policyUsesThingVariables,
  policyVariables,
  PolicySyntaxError,
  resourceArn,
  type EvalContext,
  type PolicyDocumentInput,
} from '../../src/policy/index.js';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const PREFIX = `arn:aws:iot:${REGION}:${ACCOUNT}`;
const client = (id: string): string => resourceArn('client', id, REGION, ACCOUNT);
const topic = (t: string): string => resourceArn('topic', t, REGION, ACCOUNT);
const filter = (f: string): string => resourceArn('topicfilter', f, REGION, ACCOUNT);

type Stmt = Record<string, unknown>;
function policy(
  policyName: string,
  statement: Stmt | Stmt[],
  version: string | null = '2012-10-17',
): PolicyDocumentInput {
  const doc: Record<string, unknown> = { Statement: statement };
  if (version !== null) doc['Version'] = version;
  return { policyName, document: JSON.stringify(doc) };
}
const allow = (action: string | string[], resource: string | string[], extra: Stmt = {}): Stmt => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
  ...extra,
});
const deny = (action: string | string[], resource: string | string[], extra: Stmt = {}): Stmt => ({
  Effect: 'Deny',
  Action: action,
  Resource: resource,
  ...extra,
});

const ATTACHED = 'iot:Connection.Thing.IsAttached';
/** A statement's Condition element with one operator and one key. */
const when = (operator: string, key: string, value: unknown): Stmt => ({ Condition: { [operator]: { [key]: value } } });

describe('resourceArn', () => {
  it('formats the four IoT resource kinds', () => {
    expect(client('dev-1')).toBe('arn:aws:iot:eu-west-1:123456789012:client/dev-1');
    expect(topic('a/b')).toBe('arn:aws:iot:eu-west-1:123456789012:topic/a/b');
    expect(filter('a/#')).toBe('arn:aws:iot:eu-west-1:123456789012:topicfilter/a/#');
    expect(resourceArn('thing', 'pump', REGION, ACCOUNT)).toBe('arn:aws:iot:eu-west-1:123456789012:thing/pump');
  });
});

describe('allow / deny combination', () => {
  it('allows when one policy allows, and lists the others as implicit deny', () => {
    const d = evaluate(
      [policy('p-allow', allow('iot:Connect', `${PREFIX}:client/dev-1`)), policy('p-other', allow('iot:Publish', '*'))],
      'iot:Connect',
      client('dev-1'),
      { clientId: 'dev-1' },
    );
    expect(d).toMatchObject({
      decision: 'ALLOWED',
      allowedBy: ['p-allow'],
      deniedBy: [],
      implicitDenyPolicies: ['p-other'],
      missingContextValues: [],
    });
    expect(d.matchedStatements).toEqual([{ policyName: 'p-allow', statementIndex: 0, effect: 'Allow' }]);
  });

  it('explicit deny beats allow, across policies and inside one policy', () => {
    const across = evaluate(
      [policy('p-allow', allow('iot:*', '*')), policy('p-deny', deny('iot:Publish', topic('secret/*')))],
      'iot:Publish',
      topic('secret/x'),
      {},
    );
    expect(across.decision).toBe('EXPLICIT_DENY');
    expect(across.allowedBy).toEqual(['p-allow']);
    expect(across.deniedBy).toEqual(['p-deny']);
    expect(across.implicitDenyPolicies).toEqual([]);

    const inside = evaluate(
      [
        policy('mixed', [
          allow('iot:Publish', '*', { Sid: 'all' }),
          deny('iot:Publish', topic('secret/x'), { Sid: 'no' }),
        ]),
      ],
      'iot:Publish',
      topic('secret/x'),
      {},
    );
    expect(inside.decision).toBe('EXPLICIT_DENY');
    expect(inside.allowedBy).toEqual(['mixed']);
    expect(inside.deniedBy).toEqual(['mixed']);
    expect(inside.matchedStatements).toEqual([
      { policyName: 'mixed', statementIndex: 0, sid: 'all', effect: 'Allow' },
      { policyName: 'mixed', statementIndex: 1, sid: 'no', effect: 'Deny' },
    ]);

    // The deny does not reach other topics.
    const mixed = [policy('mixed', [allow('iot:Publish', '*'), deny('iot:Publish', topic('secret/x'))])];
    const other = evaluate(mixed, 'iot:Publish', topic('public'), {});
    expect(other.decision).toBe('ALLOWED');
  });

  it('implicit deny when nothing matches, and with no policies at all', () => {
    const d = evaluate(
      [policy('a', allow('iot:Publish', topic('x'))), policy('b', allow('iot:Subscribe', filter('x')))],
      'iot:Publish',
      topic('y'),
      {},
    );
    expect(d.decision).toBe('IMPLICIT_DENY');
    expect(d.allowedBy).toEqual([]);
    expect(d.deniedBy).toEqual([]);
    expect(d.implicitDenyPolicies).toEqual(['a', 'b']);

    const none = evaluate([], 'iot:Connect', client('x'), {});
    expect(none).toMatchObject({ decision: 'IMPLICIT_DENY', allowedBy: [], deniedBy: [], implicitDenyPolicies: [] });
  });

  it('accepts a single statement object and an array of statements alike', () => {
    const single = parsePolicy({ Version: '2012-10-17', Statement: allow('iot:Connect', '*') });
    const array = parsePolicy({
      Version: '2012-10-17',
      Statement: [allow('iot:Publish', topic('a')), allow('iot:Connect', '*')],
    });
    expect(single.statements).toHaveLength(1);
    expect(array.statements).toHaveLength(2);
    expect(evaluate([{ policyName: 's', document: single }], 'iot:Connect', client('c'), {}).allowedBy).toEqual(['s']);
    const d = evaluate([{ policyName: 'a', document: array }], 'iot:Connect', client('c'), {});
    expect(d.allowedBy).toEqual(['a']);
    expect(d.matchedStatements).toEqual([{ policyName: 'a', statementIndex: 1, effect: 'Allow' }]);
    // an object document (not JSON text) works too
    const obj = evaluate(
      [{ policyName: 'o', document: { Version: '2012-10-17', Statement: [allow('iot:Connect', '*')] } }],
      'iot:Connect',
      client('c'),
      {},
    );
    expect(obj.decision).toBe('ALLOWED');
  });
});

describe('action matching', () => {
  it('iot:* and * match every IoT action; a prefix wildcard matches only its family', () => {
    for (const action of ['iot:Connect', 'iot:Publish', 'iot:Subscribe', 'iot:Receive', 'iot:RetainPublish']) {
      expect(evaluate([policy('star', allow('iot:*', '*'))], action, topic('t'), {}).decision).toBe('ALLOWED');
      expect(evaluate([policy('all', allow('*', '*'))], action, topic('t'), {}).decision).toBe('ALLOWED');
    }
    const pubFamily = [policy('pub', allow('iot:Pub*', '*'))];
    expect(evaluate(pubFamily, 'iot:Publish', topic('t'), {}).decision).toBe('ALLOWED');
    expect(evaluate(pubFamily, 'iot:Subscribe', topic('t'), {}).decision).toBe('IMPLICIT_DENY');
    // iot:* is not a wildcard for another service
    expect(evaluate([policy('star', allow('iot:*', '*'))], 'greengrass:Discover', '*', {}).decision).toBe(
      'IMPLICIT_DENY',
    );
  });

  it('is case-insensitive', () => {
    const d = evaluate([policy('lower', allow('IOT:publish', topic('t')))], 'iot:Publish', topic('t'), {});
    expect(d.decision).toBe('ALLOWED');
    expect(d.allowedBy).toEqual(['lower']);
    expect(evaluate([policy('upper', allow('iot:Publish', topic('t')))], 'IOT:PUBLISH', topic('t'), {}).decision).toBe(
      'ALLOWED',
    );
  });

  it('NotAction applies to every action except the listed ones', () => {
    const p = [policy('not-connect', { Effect: 'Allow', NotAction: 'iot:Connect', Resource: '*' })];
    expect(evaluate(p, 'iot:Publish', topic('t'), {}).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Connect', client('c'), {}).decision).toBe('IMPLICIT_DENY');
  });

  it('does not substitute variables in Action', () => {
    const p = [policy('var-action', allow('iot:${iot:ClientId}', '*'))];
    expect(evaluate(p, 'iot:Publish', topic('t'), { clientId: 'Publish' }).decision).toBe('IMPLICIT_DENY');
  });
});

describe('resource matching', () => {
  it('* matches any run of characters and crosses /', () => {
    const p = [policy('p', allow('iot:Publish', topic('dt/*')))];
    expect(evaluate(p, 'iot:Publish', topic('dt/a'), {}).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Publish', topic('dt/a/b/c'), {}).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Publish', topic('dt/'), {}).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Publish', topic('dtx/a'), {}).decision).toBe('IMPLICIT_DENY');
    expect(evaluate(p, 'iot:Publish', topic('other/dt/a'), {}).decision).toBe('IMPLICIT_DENY');
  });

  it('? matches exactly one character, including /', () => {
    const p = [policy('p', allow('iot:Publish', topic('room/??/temp')))];
    expect(evaluate(p, 'iot:Publish', topic('room/12/temp'), {}).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Publish', topic('room/1/temp'), {}).decision).toBe('IMPLICIT_DENY');
    expect(evaluate(p, 'iot:Publish', topic('room/123/temp'), {}).decision).toBe('IMPLICIT_DENY');
  });

  it('MQTT + and # are literal characters', () => {
    const sub = [policy('p', allow('iot:Subscribe', filter('a/#')))];
    expect(evaluate(sub, 'iot:Subscribe', filter('a/#'), {}).decision).toBe('ALLOWED');
    expect(evaluate(sub, 'iot:Subscribe', filter('a/b'), {}).decision).toBe('IMPLICIT_DENY');
    expect(evaluate(sub, 'iot:Subscribe', filter('a/b/#'), {}).decision).toBe('IMPLICIT_DENY');

    const pub = [policy('p', allow('iot:Publish', topic('a/+')))];
    expect(evaluate(pub, 'iot:Publish', topic('a/b'), {}).decision).toBe('IMPLICIT_DENY');
    expect(evaluate(pub, 'iot:Publish', topic('a/+'), {}).decision).toBe('ALLOWED');
  });

  it('is case-sensitive and checks the resource kind', () => {
    const p = [policy('p', allow(['iot:Publish', 'iot:Subscribe'], topic('Dev/*')))];
    expect(evaluate(p, 'iot:Publish', topic('dev/x'), {}).decision).toBe('IMPLICIT_DENY');
    // a topic/ resource does not cover a SUBSCRIBE (checked on topicfilter/)
    expect(evaluate(p, 'iot:Subscribe', filter('Dev/x'), {}).decision).toBe('IMPLICIT_DENY');
  });

  it('regular-expression characters in resources are literal', () => {
    const p = [policy('p', allow('iot:Publish', topic('a.b(c)[d]^$')))];
    expect(evaluate(p, 'iot:Publish', topic('a.b(c)[d]^$'), {}).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Publish', topic('aXb(c)[d]^$'), {}).decision).toBe('IMPLICIT_DENY');
  });

  it('NotResource applies to every resource except the listed ones', () => {
    const p = [
      policy('allow-all', allow('iot:Publish', '*')),
      policy('deny-outside', { Effect: 'Deny', Action: 'iot:Publish', NotResource: [topic('dt/*'), topic('cmd/ack')] }),
    ];
    const inside = evaluate(p, 'iot:Publish', topic('dt/x'), {});
    expect(inside.decision).toBe('ALLOWED');
    expect(inside.implicitDenyPolicies).toEqual(['deny-outside']);
    const ack = evaluate(p, 'iot:Publish', topic('cmd/ack'), {});
    expect(ack.decision).toBe('ALLOWED');
    const outside = evaluate(p, 'iot:Publish', topic('other'), {});
    expect(outside.decision).toBe('EXPLICIT_DENY');
    expect(outside.deniedBy).toEqual(['deny-outside']);
    expect(outside.allowedBy).toEqual(['allow-all']);
  });

  it('a resource list matches if any entry matches', () => {
    const p = [policy('p', allow('iot:Publish', [topic('a'), topic('b/*')]))];
    expect(evaluate(p, 'iot:Publish', topic('b/1'), {}).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Publish', topic('c'), {}).decision).toBe('IMPLICIT_DENY');
  });
});

describe('policy variables', () => {
  it('${iot:ClientId} in the connect resource', () => {
    const p = [policy('connect-own-id', allow('iot:Connect', `${PREFIX}:client/\${iot:ClientId}`))];
    const ok = evaluate(p, 'iot:Connect', client('dev-1'), { clientId: 'dev-1' });
    expect(ok).toMatchObject({ decision: 'ALLOWED', allowedBy: ['connect-own-id'], missingContextValues: [] });
    // the resource asked for is another client id than the one connecting
    const other = evaluate(p, 'iot:Connect', client('dev-2'), { clientId: 'dev-1' });
    expect(other).toMatchObject({ decision: 'IMPLICIT_DENY', implicitDenyPolicies: ['connect-own-id'] });
    // no client id known at all
    const unknown = evaluate(p, 'iot:Connect', client('dev-1'), {});
    expect(unknown.decision).toBe('IMPLICIT_DENY');
    expect(unknown.missingContextValues).toEqual(['iot:ClientId']);
  });

  it('${iot:ClientId} in topic resources', () => {
    const p = [policy('own-topics', allow('iot:Publish', `${PREFIX}:topic/dt/\${iot:ClientId}/*`))];
    expect(evaluate(p, 'iot:Publish', topic('dt/dev-1/telemetry'), { clientId: 'dev-1' }).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Publish', topic('dt/dev-2/telemetry'), { clientId: 'dev-1' }).decision).toBe(
      'IMPLICIT_DENY',
    );
  });

  it('a substituted value is literal: a client id with * is not a wildcard', () => {
    const p = [policy('own-topics', allow('iot:Publish', `${PREFIX}:topic/dt/\${iot:ClientId}`))];
    expect(evaluate(p, 'iot:Publish', topic('dt/anything'), { clientId: '*' }).decision).toBe('IMPLICIT_DENY');
    expect(evaluate(p, 'iot:Publish', topic('dt/*'), { clientId: '*' }).decision).toBe('ALLOWED');
  });

  it('thing-name variable: resolves with a thing, is reported missing without one', () => {
    const p = [policy('thing-connect', allow('iot:Connect', `${PREFIX}:client/\${iot:Connection.Thing.ThingName}`))];
    const withThing = evaluate(p, 'iot:Connect', client('pump-7'), { clientId: 'pump-7', thingName: 'pump-7' });
    expect(withThing).toMatchObject({ decision: 'ALLOWED', allowedBy: ['thing-connect'], missingContextValues: [] });

    const noThing = evaluate(p, 'iot:Connect', client('pump-7'), { clientId: 'pump-7' });
    expect(noThing.decision).toBe('IMPLICIT_DENY');
    expect(noThing.implicitDenyPolicies).toEqual(['thing-connect']);
    expect(noThing.missingContextValues).toEqual(['iot:Connection.Thing.ThingName']);

    // missing values are reported only for statements whose action applies
    const otherAction = evaluate(p, 'iot:Publish', topic('x'), { clientId: 'pump-7' });
    expect(otherAction.missingContextValues).toEqual([]);
  });

  it('an unresolved variable voids the whole statement, a Deny too', () => {
    const p = [
      policy('allow', allow('iot:Publish', '*')),
      policy('deny', deny('iot:Publish', [topic('t/${iot:Connection.Thing.ThingTypeName}'), topic('t/x')])),
    ];
    const d = evaluate(p, 'iot:Publish', topic('t/x'), { clientId: 'c' });
    expect(d.decision).toBe('ALLOWED');
    expect(d.implicitDenyPolicies).toEqual(['deny']);
    expect(d.missingContextValues).toEqual(['iot:Connection.Thing.ThingTypeName']);
    const resolved = evaluate(p, 'iot:Publish', topic('t/x'), { clientId: 'c', thingName: 'c', thingTypeName: 'pump' });
    expect(resolved.decision).toBe('EXPLICIT_DENY');
    expect(resolved.deniedBy).toEqual(['deny']);
  });

  it('thing attributes, certificate subject and certificate id variables', () => {
    const p = [
      policy('p', [
        allow('iot:Publish', topic('site/${iot:Connection.Thing.Attributes[site]}/*')),
        allow('iot:Subscribe', filter('cn/${iot:Certificate.Subject.CommonName}/#')),
        allow('iot:Receive', topic('cert/${iot:CertificateId}')),
      ]),
    ];
    const ctx: EvalContext = {
      clientId: 'pump',
      thingName: 'pump',
      thingAttributes: { site: 'berlin' },
      certificateSubject: { CommonName: 'pump.example' },
      certificateId: 'abc123',
    };
    expect(evaluate(p, 'iot:Publish', topic('site/berlin/x'), ctx).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Publish', topic('site/paris/x'), ctx).decision).toBe('IMPLICIT_DENY');
    expect(evaluate(p, 'iot:Subscribe', filter('cn/pump.example/#'), ctx).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Receive', topic('cert/abc123'), ctx).decision).toBe('ALLOWED');
    const noAttr = evaluate(p, 'iot:Publish', topic('site/berlin/x'), { clientId: 'pump', thingName: 'pump' });
    expect(noAttr.missingContextValues).toEqual(['iot:Connection.Thing.Attributes[site]']);
  });

  it('${*}, ${?} and ${$} are literal characters, not wildcards', () => {
    const p = [policy('escaped', allow('iot:Publish', topic('a/${*}/b${?}/${$}aws')))];
    expect(evaluate(p, 'iot:Publish', topic('a/*/b?/$aws'), {}).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Publish', topic('a/x/b?/$aws'), {}).decision).toBe('IMPLICIT_DENY');
    expect(evaluate(p, 'iot:Publish', topic('a/*/bX/$aws'), {}).decision).toBe('IMPLICIT_DENY');
    // the unescaped * next to it still is a wildcard
    const mixed = [policy('mixed', allow('iot:Publish', topic('${*}/*')))];
    expect(evaluate(mixed, 'iot:Publish', topic('*/anything/at/all'), {}).decision).toBe('ALLOWED');
    expect(evaluate(mixed, 'iot:Publish', topic('x/anything'), {}).decision).toBe('IMPLICIT_DENY');
  });

  it('honours the IAM default-value form', () => {
    const p = [policy('p', allow('iot:Publish', topic("t/${iot:Connection.Thing.ThingName, 'unassigned'}")))];
    expect(evaluate(p, 'iot:Publish', topic('t/unassigned'), { clientId: 'c' })).toMatchObject({
      decision: 'ALLOWED',
      missingContextValues: [],
    });
    expect(evaluate(p, 'iot:Publish', topic('t/pump'), { clientId: 'pump', thingName: 'pump' }).decision).toBe(
      'ALLOWED',
    );
  });

  it('without Version 2012-10-17 variables are literal text', () => {
    const p = [policy('old', allow('iot:Connect', `${PREFIX}:client/\${iot:ClientId}`), null)];
    expect(evaluate(p, 'iot:Connect', client('dev-1'), { clientId: 'dev-1' }).decision).toBe('IMPLICIT_DENY');
    expect(evaluate(p, 'iot:Connect', client('${iot:ClientId}'), { clientId: 'dev-1' }).decision).toBe('ALLOWED');
    expect(parsePolicy(p[0]!.document).warnings[0]).toMatch(/Version is missing/);
  });
});

describe('conditions', () => {
  const isAttached = policy('attached-only', allow('iot:Connect', '*', when('Bool', ATTACHED, 'true')));

  it('Bool on iot:Connection.Thing.IsAttached', () => {
    expect(evaluate([isAttached], 'iot:Connect', client('c'), { clientId: 'c', isAttached: true }).decision).toBe(
      'ALLOWED',
    );
    expect(evaluate([isAttached], 'iot:Connect', client('c'), { clientId: 'c', isAttached: false }).decision).toBe(
      'IMPLICIT_DENY',
    );
    // a resolved thing implies attachment
    expect(evaluate([isAttached], 'iot:Connect', client('c'), { clientId: 'c', thingName: 'c' }).decision).toBe(
      'ALLOWED',
    );
    const unknown = evaluate([isAttached], 'iot:Connect', client('c'), { clientId: 'c' });
    expect(unknown.decision).toBe('IMPLICIT_DENY');
    expect(unknown.missingContextValues).toEqual(['iot:Connection.Thing.IsAttached']);
    // JSON boolean value works like the string
    const boolValue = policy('b', allow('iot:Connect', '*', when('Bool', ATTACHED, true)));
    expect(evaluate([boolValue], 'iot:Connect', client('c'), { isAttached: true }).decision).toBe('ALLOWED');
  });

  it('StringEquals / StringNotEquals / StringLike, with variables in values', () => {
    const p = [
      policy('p', [
        allow('iot:Connect', '*', when('StringEquals', 'iot:Certificate.Subject.CommonName', '${iot:ClientId}')),
        allow('iot:Publish', '*', { Condition: { StringLike: { 'iot:ClientId': ['sensor-*', 'gw-??'] } } }),
        deny('iot:Subscribe', '*', { Condition: { StringNotEquals: { 'iot:ClientId': ['admin', 'ops'] } } }),
        allow('iot:Subscribe', '*'),
      ]),
    ];
    const ctx = (clientId: string, cn = clientId): EvalContext => ({
      clientId,
      certificateSubject: { CommonName: cn },
    });
    expect(evaluate(p, 'iot:Connect', client('a'), ctx('a')).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Connect', client('a'), ctx('a', 'b')).decision).toBe('IMPLICIT_DENY');
    expect(evaluate(p, 'iot:Publish', topic('t'), ctx('sensor-1')).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Publish', topic('t'), ctx('gw-12')).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Publish', topic('t'), ctx('gw-123')).decision).toBe('IMPLICIT_DENY');
    expect(evaluate(p, 'iot:Subscribe', filter('t'), ctx('ops')).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Subscribe', filter('t'), ctx('dev')).decision).toBe('EXPLICIT_DENY');
  });

  it('StringEquals treats * literally, StringLike as a wildcard', () => {
    const eq = [policy('eq', allow('iot:Connect', '*', { Condition: { StringEquals: { 'iot:ClientId': 'dev-*' } } }))];
    expect(evaluate(eq, 'iot:Connect', client('dev-1'), { clientId: 'dev-1' }).decision).toBe('IMPLICIT_DENY');
    expect(evaluate(eq, 'iot:Connect', client('dev-*'), { clientId: 'dev-*' }).decision).toBe('ALLOWED');
  });

  it('IpAddress / NotIpAddress on aws:SourceIp', () => {
    const p = [
      policy(
        'office',
        allow('iot:Connect', '*', when('IpAddress', 'aws:SourceIp', ['198.51.100.0/24', '203.0.113.7'])),
      ),
      policy('block', deny('iot:Connect', '*', { Condition: { NotIpAddress: { 'aws:SourceIp': '198.51.100.0/25' } } })),
    ];
    expect(evaluate(p, 'iot:Connect', client('c'), { sourceIp: '198.51.100.10' }).decision).toBe('ALLOWED');
    // IPv4-mapped IPv6 as Node reports it
    expect(evaluate(p, 'iot:Connect', client('c'), { sourceIp: '::ffff:198.51.100.10' }).decision).toBe('ALLOWED');
    const outside = evaluate(p, 'iot:Connect', client('c'), { sourceIp: '198.51.100.200' });
    expect(outside.decision).toBe('EXPLICIT_DENY');
    expect(outside.allowedBy).toEqual(['office']);
    expect(outside.deniedBy).toEqual(['block']);
    const elsewhere = evaluate(p, 'iot:Connect', client('c'), { sourceIp: '192.0.2.1' });
    expect(elsewhere).toMatchObject({ decision: 'EXPLICIT_DENY', allowedBy: [], deniedBy: ['block'] });
  });

  it('ArnLike on a variable-built ARN', () => {
    const p = [
      policy('p', allow('iot:Connect', '*', when('ArnLike', 'iot:Custom.Arn', `${PREFIX}:thing/\${iot:ClientId}*`))),
    ];
    const extra = { 'iot:Custom.Arn': `${PREFIX}:thing/pump-9` };
    expect(evaluate(p, 'iot:Connect', client('pump'), { clientId: 'pump', extra }).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Connect', client('fan'), { clientId: 'fan', extra }).decision).toBe('IMPLICIT_DENY');
  });

  it('all operators and all keys must hold', () => {
    const p = [
      policy(
        'p',
        allow('iot:Connect', '*', {
          Condition: {
            Bool: { 'iot:Connection.Thing.IsAttached': 'true' },
            StringLike: { 'iot:ClientId': 'pump-*', 'iot:Connection.Thing.ThingTypeName': 'pump' },
          },
        }),
      ),
    ];
    const base: EvalContext = { clientId: 'pump-1', thingName: 'pump-1', thingTypeName: 'pump', isAttached: true };
    expect(evaluate(p, 'iot:Connect', client('pump-1'), base).decision).toBe('ALLOWED');
    expect(evaluate(p, 'iot:Connect', client('pump-1'), { ...base, thingTypeName: 'fan' }).decision).toBe(
      'IMPLICIT_DENY',
    );
    expect(evaluate(p, 'iot:Connect', client('pump-1'), { ...base, isAttached: false }).decision).toBe('IMPLICIT_DENY');
  });

  it('an unsupported operator makes the statement not match and is reported', () => {
    const p = [
      policy('allow', allow('iot:Connect', '*', when('DateGreaterThan', 'aws:CurrentTime', '2020-01-01T00:00:00Z'))),
      policy('deny', deny('iot:Connect', '*', { Condition: { BinaryEquals: { 'iot:X': 'AA==' } } })),
    ];
    const extra = { 'aws:CurrentTime': '2030-01-01T00:00:00Z', 'iot:X': 'AA==' };
    const d = evaluate(p, 'iot:Connect', client('c'), { extra });
    expect(d.decision).toBe('IMPLICIT_DENY');
    expect(d.implicitDenyPolicies).toEqual(['allow', 'deny']);
    expect(d.unsupportedConditionOperators).toEqual(['DateGreaterThan', 'BinaryEquals']);
    expect(parsePolicy(p[0]!.document).warnings.some((w) => w.includes('DateGreaterThan'))).toBe(true);
  });
});

describe('parsePolicy errors', () => {
  const bad = (doc: string | object): PolicySyntaxError => {
    try {
      parsePolicy(doc, 'bad-policy');
    } catch (err) {
      expect(err).toBeInstanceOf(PolicySyntaxError);
      return err as PolicySyntaxError;
    }
    throw new Error('expected a PolicySyntaxError');
  };

  it('malformed JSON', () => {
    const err = bad('{"Version": "2012-10-17", "Statement": [');
    expect(err.message).toMatch(/^policy "bad-policy": document is not valid JSON \(/);
    expect(err.policyName).toBe('bad-policy');
    expect(bad('   ').message).toBe('policy "bad-policy": document is empty');
  });

  it('bad shapes name the element at fault', () => {
    expect(bad('[]').message).toBe('policy "bad-policy": document must be a JSON object, got an array');
    expect(bad({ Version: '2012-10-17' }).message).toBe('policy "bad-policy": has no "Statement" element');
    expect(bad({ Version: '2012-10-17', Statement: [] }).message).toBe(
      'policy "bad-policy" Statement: must have at least one statement',
    );
    expect(
      bad({ Version: '2012-10-17', Statement: [{ Effect: 'allow', Action: 'iot:*', Resource: '*' }] }).message,
    ).toBe('policy "bad-policy" Statement[0].Effect: must be "Allow" or "Deny" (case-sensitive), got "allow"');
    const noResource = bad({
      Version: '2012-10-17',
      Statement: [allow('iot:*', '*'), { Effect: 'Allow', Action: 'iot:*' }],
    });
    expect(noResource.message).toBe('policy "bad-policy" Statement[1]: has neither "Resource" nor "NotResource"');
    expect(noResource.path).toBe('Statement[1]');
    expect(bad({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 5, Resource: '*' } }).message).toBe(
      'policy "bad-policy" Statement.Action: must be a string or an array of strings, got number 5',
    );
    expect(
      bad({ Version: '2012-10-17', Statement: { Effect: 'Allow', Actions: 'iot:*', Resource: '*' } }).message,
    ).toMatch(/Statement: unknown element "Actions"/);
    expect(bad({ Version: '2012-10-17', Statement: allow('iot:*', '*', { Principal: '*' }) }).message).toMatch(
      /"Principal" is not allowed in AWS IoT policies/,
    );
    expect(bad({ Version: '2020-01-01', Statement: allow('iot:*', '*') }).message).toMatch(
      /Version must be "2012-10-17"/,
    );
    const badCidr = allow('iot:*', '*', when('IpAddress', 'aws:SourceIp', '10.0.0.0/99'));
    expect(bad({ Version: '2012-10-17', Statement: badCidr }).message).toBe(
      'policy "bad-policy" Statement.Condition.IpAddress.aws:SourceIp: "10.0.0.0/99" is not an IP address or CIDR block',
    );
  });

  it('evaluate reports the faulty policy by name', () => {
    const policies = [policy('ok', allow('iot:*', '*')), { policyName: 'broken', document: '{' }];
    expect(() => evaluate(policies, 'iot:Connect', client('c'), {})).toThrow(
      /^policy "broken": document is not valid JSON/,
    );
  });
});

describe('introspection', () => {
  it('policyUsesThingVariables sees thing variables and thing condition keys only', () => {
    const doc = (resource: string, version: string | null = '2012-10-17'): string | object =>
      policy('p', allow('iot:Connect', resource), version).document;
    expect(policyUsesThingVariables(doc(`${PREFIX}:client/\${iot:Connection.Thing.ThingName}`))).toBe(true);
    expect(policyUsesThingVariables(isAttachedDoc())).toBe(true);
    expect(policyUsesThingVariables(doc(`${PREFIX}:client/\${iot:ClientId}`))).toBe(false);
    // without Version 2012-10-17 the text is not a variable
    expect(policyUsesThingVariables(doc('client/${iot:Connection.Thing.ThingName}', null))).toBe(false);
  });

  it('policyVariables lists the keys in AWS spelling', () => {
    const doc = policy('p', [
      allow('iot:Connect', 'client/${iot:clientid}', when('Bool', ATTACHED, 'true')),
      allow('iot:Publish', 'topic/${iot:Connection.Thing.Attributes[Floor]}/${iot:ClientId}'),
    ]).document;
    expect(policyVariables(doc)).toEqual([
      'iot:ClientId',
      'iot:Connection.Thing.IsAttached',
      'iot:Connection.Thing.Attributes[Floor]',
    ]);
  });
});

function isAttachedDoc(): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [allow('iot:Connect', '*', when('Bool', ATTACHED, 'true'))],
  });
}
