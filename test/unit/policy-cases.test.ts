/**
 * An independent table of AWS IoT policy cases: each policy is a documented AWS example (or the IAM rule AWS IoT
 * follows), with its source page, a principal, an action, a resource and the decision AWS documents. The expected
 * decisions are written from the documentation, not from the evaluator. The lab enforces policies with the same
 * evaluator, so this table is what keeps both honest (issue 18, item 5).
 *
 * "tool" cases evaluate as iot-doctor does for a device it cannot see (context not complete): a key the tool never
 * receives gives CANNOT_DECIDE. "aws" cases evaluate with a complete context, as AWS (and the lab) do.
 */
import { describe, expect, it } from 'vitest';
import { evaluate, type AuthDecision, type EvalContext, type IotAction } from '../../src/policy/index.js';

const ARN = 'arn:aws:iot:us-east-1:123456789012';
const DOCS = 'https://docs.aws.amazon.com/iot/latest/developerguide';
const IAM = 'https://docs.aws.amazon.com/IAM/latest/UserGuide';

interface PolicyCase {
  name: string;
  source: string;
  policy: object;
  principal: EvalContext;
  action: IotAction;
  resource: string;
  expected: AuthDecision;
}

const V = '2012-10-17';

const CONNECT_THING = {
  Version: V,
  Statement: [
    { Effect: 'Deny', Action: ['iot:Connect'], Resource: [`${ARN}:client/client1`, `${ARN}:client/client2`] },
    {
      Effect: 'Allow',
      Action: ['iot:Connect'],
      Resource: [`${ARN}:client/\${iot:Connection.Thing.ThingName}`],
      Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
    },
  ],
};
const CONNECT_CLIENT1 = {
  Version: V,
  Statement: [{ Effect: 'Allow', Action: ['iot:Connect'], Resource: [`${ARN}:client/client1`] }],
};
const CONNECT_NO_ATTRIBUTES = {
  Version: V,
  Statement: [
    {
      Effect: 'Allow',
      Action: 'iot:Connect',
      Resource: `${ARN}:client/client1`,
      Condition: { 'ForAllValues:StringEquals': { 'iot:ConnectAttributes': [] } },
    },
  ],
};
const DENY_PERSISTENT = {
  Version: V,
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/client1` },
    {
      Effect: 'Deny',
      Action: 'iot:Connect',
      Resource: `${ARN}:client/client1`,
      Condition: { 'ForAnyValue:StringEquals': { 'iot:ConnectAttributes': ['PersistentConnect'] } },
    },
  ],
};
const LAST_WILL = {
  Version: V,
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/client1` },
    {
      Effect: 'Deny',
      Action: 'iot:Connect',
      Resource: `${ARN}:client/client1`,
      Condition: { StringNotEquals: { 'iot:LastWillTopic': 'lwt/client1' } },
    },
  ],
};
const DOMAIN = {
  Version: V,
  Statement: [
    {
      Effect: 'Allow',
      Action: 'iot:Connect',
      Resource: `${ARN}:client/*`,
      Condition: { StringEquals: { 'iot:DomainName': 'iot.example.com' } },
    },
  ],
};
const CN_TOPIC = {
  Version: V,
  Statement: [
    { Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:topic/topic/\${iot:Certificate.Subject.CommonName}/*` },
  ],
};
const ISSUER_TOPIC = {
  Version: V,
  Statement: [
    { Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:topic/\${iot:Certificate.Issuer.Organization}/*` },
  ],
};
const CLIENTID_FILTER = {
  Version: V,
  Statement: [{ Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${ARN}:topicfilter/my/\${iot:ClientId}/topic` }],
};
const CLIENTID_TOPIC = {
  Version: V,
  Statement: [{ Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:topic/my/topic/\${iot:ClientId}` }],
};
const FILTER_HASH = {
  Version: V,
  Statement: [{ Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${ARN}:topicfilter/some/#` }],
};
const FILTER_STAR = {
  Version: V,
  Statement: [{ Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${ARN}:topicfilter/some/*` }],
};
const TOPIC_NOT_FILTER = {
  Version: V,
  Statement: [{ Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${ARN}:topic/some/*` }],
};
const THING_ATTRIBUTES = {
  Version: V,
  Statement: [
    {
      Effect: 'Allow',
      Action: ['iot:Publish'],
      Resource: `${ARN}:topic/device/stats`,
      Condition: {
        StringEquals: {
          'iot:Connection.Thing.Attributes[attributeName]': 'attributeValue',
          'iot:Connection.Thing.ThingTypeName': 'Thing_Type_Name',
        },
        Bool: { 'iot:Connection.Thing.IsAttached': 'true' },
      },
    },
  ],
};
const DENY_WINS = {
  Version: V,
  Statement: [
    { Effect: 'Allow', Action: 'iot:*', Resource: '*' },
    { Effect: 'Deny', Action: 'iot:Publish', Resource: `${ARN}:topic/admin/*` },
  ],
};
const NOT_ACTION = { Version: V, Statement: [{ Effect: 'Allow', NotAction: 'iot:Publish', Resource: '*' }] };
const NOT_RESOURCE = {
  Version: V,
  Statement: [
    { Effect: 'Allow', Action: 'iot:Publish', Resource: '*' },
    { Effect: 'Deny', Action: 'iot:Publish', NotResource: `${ARN}:topic/dt/*` },
  ],
};
const SOURCE_IP = {
  Version: V,
  Statement: [
    {
      Effect: 'Allow',
      Action: 'iot:Connect',
      Resource: '*',
      Condition: { IpAddress: { 'aws:SourceIp': '198.51.100.0/24' } },
    },
  ],
};

const thing = (name: string, attached = true): EvalContext => ({
  clientId: name,
  thingName: name,
  isAttached: attached,
});
const complete = (ctx: EvalContext): EvalContext => ({ ...ctx, complete: true });

const CASES: PolicyCase[] = [
  // connect-policy.html: deny client1/client2, allow an attached thing named like the client id
  {
    name: 'denied client id',
    source: `${DOCS}/connect-policy.html`,
    policy: CONNECT_THING,
    principal: thing('client1'),
    action: 'iot:Connect',
    resource: `${ARN}:client/client1`,
    expected: 'EXPLICIT_DENY',
  },
  {
    name: 'attached thing',
    source: `${DOCS}/connect-policy.html`,
    policy: CONNECT_THING,
    principal: thing('sensor-7'),
    action: 'iot:Connect',
    resource: `${ARN}:client/sensor-7`,
    expected: 'ALLOWED',
  },
  {
    name: 'no thing attached',
    source: `${DOCS}/connect-policy.html`,
    policy: CONNECT_THING,
    principal: { clientId: 'sensor-7', isAttached: false },
    action: 'iot:Connect',
    resource: `${ARN}:client/sensor-7`,
    expected: 'IMPLICIT_DENY',
  },
  {
    name: 'unregistered client1',
    source: `${DOCS}/connect-policy.html`,
    policy: CONNECT_CLIENT1,
    principal: { clientId: 'client1' },
    action: 'iot:Connect',
    resource: `${ARN}:client/client1`,
    expected: 'ALLOWED',
  },
  {
    name: 'other client id',
    source: `${DOCS}/connect-policy.html`,
    policy: CONNECT_CLIENT1,
    principal: { clientId: 'client2' },
    action: 'iot:Connect',
    resource: `${ARN}:client/client2`,
    expected: 'IMPLICIT_DENY',
  },
  // connect-policy.html, persistent sessions: connectAttributes; the tool never sees the CONNECT's attributes
  {
    name: 'connect attributes [] (tool)',
    source: `${DOCS}/connect-policy.html`,
    policy: CONNECT_NO_ATTRIBUTES,
    principal: { clientId: 'client1' },
    action: 'iot:Connect',
    resource: `${ARN}:client/client1`,
    expected: 'CANNOT_DECIDE',
  },
  {
    name: 'connect attributes [] with PersistentConnect (aws)',
    source: `${DOCS}/connect-policy.html`,
    policy: CONNECT_NO_ATTRIBUTES,
    principal: complete({ clientId: 'client1', extra: { 'iot:ConnectAttributes': ['PersistentConnect'] } }),
    action: 'iot:Connect',
    resource: `${ARN}:client/client1`,
    expected: 'IMPLICIT_DENY',
  },
  {
    name: 'connect attributes [] with none (aws)',
    source: `${DOCS}/connect-policy.html`,
    policy: CONNECT_NO_ATTRIBUTES,
    principal: complete({ clientId: 'client1', extra: { 'iot:ConnectAttributes': [] } }),
    action: 'iot:Connect',
    resource: `${ARN}:client/client1`,
    expected: 'ALLOWED',
  },
  {
    name: 'deny PersistentConnect (tool)',
    source: `${DOCS}/connect-policy.html`,
    policy: DENY_PERSISTENT,
    principal: { clientId: 'client1' },
    action: 'iot:Connect',
    resource: `${ARN}:client/client1`,
    expected: 'CANNOT_DECIDE',
  },
  {
    name: 'deny PersistentConnect (aws)',
    source: `${DOCS}/connect-policy.html`,
    policy: DENY_PERSISTENT,
    principal: complete({ clientId: 'client1', extra: { 'iot:ConnectAttributes': ['PersistentConnect'] } }),
    action: 'iot:Connect',
    resource: `${ARN}:client/client1`,
    expected: 'EXPLICIT_DENY',
  },
  // IAM negated operators on an absent key (reference_policies_condition-single-vs-multi-valued-context-keys):
  // the tool never receives iot:LastWillTopic / iot:DomainName, so it must not guess.
  {
    name: 'StringNotEquals iot:LastWillTopic (tool)',
    source: `${DOCS}/connect-policy.html`,
    policy: LAST_WILL,
    principal: { clientId: 'client1' },
    action: 'iot:Connect',
    resource: `${ARN}:client/client1`,
    expected: 'CANNOT_DECIDE',
  },
  {
    name: 'StringNotEquals iot:LastWillTopic, other will (aws)',
    source: `${DOCS}/connect-policy.html`,
    policy: LAST_WILL,
    principal: complete({ clientId: 'client1', extra: { 'iot:LastWillTopic': 'x' } }),
    action: 'iot:Connect',
    resource: `${ARN}:client/client1`,
    expected: 'EXPLICIT_DENY',
  },
  {
    name: 'iot:DomainName (tool)',
    source: `${DOCS}/iot-custom-endpoints-configurable.html`,
    policy: DOMAIN,
    principal: { clientId: 'c' },
    action: 'iot:Connect',
    resource: `${ARN}:client/c`,
    expected: 'CANNOT_DECIDE',
  },
  {
    name: 'iot:DomainName matches (aws)',
    source: `${DOCS}/iot-custom-endpoints-configurable.html`,
    policy: DOMAIN,
    principal: complete({ clientId: 'c', extra: { 'iot:DomainName': 'iot.example.com' } }),
    action: 'iot:Connect',
    resource: `${ARN}:client/c`,
    expected: 'ALLOWED',
  },
  // cert-policy-variables.html, limitations: a field with * $ + ? # is not substituted
  {
    name: 'CommonName with $ is not substituted',
    source: `${DOCS}/cert-policy-variables.html`,
    policy: CN_TOPIC,
    principal: { clientId: 'c', certificateSubject: { CommonName: 'tank$7' } },
    action: 'iot:Publish',
    resource: `${ARN}:topic/topic/tank$7/level`,
    expected: 'IMPLICIT_DENY',
  },
  {
    name: 'plain CommonName is substituted',
    source: `${DOCS}/cert-policy-variables.html`,
    policy: CN_TOPIC,
    principal: { clientId: 'c', certificateSubject: { CommonName: 'tank7' } },
    action: 'iot:Publish',
    resource: `${ARN}:topic/topic/tank7/level`,
    expected: 'ALLOWED',
  },
  {
    name: 'Issuer Organization with + is not substituted',
    source: `${DOCS}/cert-policy-variables.html`,
    policy: ISSUER_TOPIC,
    principal: { clientId: 'c', certificateIssuer: { Organization: 'a+b' } },
    action: 'iot:Publish',
    resource: `${ARN}:topic/a+b/x`,
    expected: 'IMPLICIT_DENY',
  },
  // basic-policy-variables.html: ${iot:ClientId}; the documented danger of a client id "+"
  {
    name: 'client id in topic',
    source: `${DOCS}/basic-policy-variables.html`,
    policy: CLIENTID_TOPIC,
    principal: { clientId: 'dev-1' },
    action: 'iot:Publish',
    resource: `${ARN}:topic/my/topic/dev-1`,
    expected: 'ALLOWED',
  },
  {
    name: 'other client id topic',
    source: `${DOCS}/basic-policy-variables.html`,
    policy: CLIENTID_TOPIC,
    principal: { clientId: 'dev-1' },
    action: 'iot:Publish',
    resource: `${ARN}:topic/my/topic/dev-2`,
    expected: 'IMPLICIT_DENY',
  },
  {
    name: 'client id "+" gains my/+/topic',
    source: `${DOCS}/basic-policy-variables.html`,
    policy: CLIENTID_FILTER,
    principal: { clientId: '+' },
    action: 'iot:Subscribe',
    resource: `${ARN}:topicfilter/my/+/topic`,
    expected: 'ALLOWED',
  },
  // pub-sub-policy.html: + and # are literal in policies; * is the policy wildcard; Subscribe is on topicfilter
  {
    name: 'topicfilter some/# allows the literal filter',
    source: `${DOCS}/pub-sub-policy.html`,
    policy: FILTER_HASH,
    principal: { clientId: 'c' },
    action: 'iot:Subscribe',
    resource: `${ARN}:topicfilter/some/#`,
    expected: 'ALLOWED',
  },
  {
    name: 'topicfilter some/# is not a wildcard',
    source: `${DOCS}/pub-sub-policy.html`,
    policy: FILTER_HASH,
    principal: { clientId: 'c' },
    action: 'iot:Subscribe',
    resource: `${ARN}:topicfilter/some/thing`,
    expected: 'IMPLICIT_DENY',
  },
  {
    name: 'topicfilter some/* covers some/#',
    source: `${DOCS}/pub-sub-policy.html`,
    policy: FILTER_STAR,
    principal: { clientId: 'c' },
    action: 'iot:Subscribe',
    resource: `${ARN}:topicfilter/some/#`,
    expected: 'ALLOWED',
  },
  {
    name: 'topic resource does not grant Subscribe',
    source: `${DOCS}/pub-sub-policy.html`,
    policy: TOPIC_NOT_FILTER,
    principal: { clientId: 'c' },
    action: 'iot:Subscribe',
    resource: `${ARN}:topicfilter/some/x`,
    expected: 'IMPLICIT_DENY',
  },
  // thing-policy-examples.html: attributes and thing type
  {
    name: 'thing attribute and type',
    source: `${DOCS}/thing-policy-examples.html`,
    policy: THING_ATTRIBUTES,
    principal: {
      ...thing('pump'),
      thingTypeName: 'Thing_Type_Name',
      thingAttributes: { attributeName: 'attributeValue' },
    },
    action: 'iot:Publish',
    resource: `${ARN}:topic/device/stats`,
    expected: 'ALLOWED',
  },
  {
    name: 'thing attribute differs',
    source: `${DOCS}/thing-policy-examples.html`,
    policy: THING_ATTRIBUTES,
    principal: { ...thing('pump'), thingTypeName: 'Thing_Type_Name', thingAttributes: { attributeName: 'other' } },
    action: 'iot:Publish',
    resource: `${ARN}:topic/device/stats`,
    expected: 'IMPLICIT_DENY',
  },
  // iot-policies.html: an explicit deny wins over every allow
  {
    name: 'explicit deny wins',
    source: `${DOCS}/iot-policies.html`,
    policy: DENY_WINS,
    principal: { clientId: 'c' },
    action: 'iot:Publish',
    resource: `${ARN}:topic/admin/reset`,
    expected: 'EXPLICIT_DENY',
  },
  {
    name: 'allow elsewhere',
    source: `${DOCS}/iot-policies.html`,
    policy: DENY_WINS,
    principal: { clientId: 'c' },
    action: 'iot:Publish',
    resource: `${ARN}:topic/dt/x`,
    expected: 'ALLOWED',
  },
  // IAM NotAction / NotResource (AWS IoT policies use the IAM grammar)
  {
    name: 'NotAction allows other actions',
    source: `${IAM}/reference_policies_elements_notaction.html`,
    policy: NOT_ACTION,
    principal: { clientId: 'c' },
    action: 'iot:Subscribe',
    resource: `${ARN}:topicfilter/a`,
    expected: 'ALLOWED',
  },
  {
    name: 'NotAction excludes the listed action',
    source: `${IAM}/reference_policies_elements_notaction.html`,
    policy: NOT_ACTION,
    principal: { clientId: 'c' },
    action: 'iot:Publish',
    resource: `${ARN}:topic/a`,
    expected: 'IMPLICIT_DENY',
  },
  {
    name: 'Deny NotResource denies outside',
    source: `${IAM}/reference_policies_elements_notresource.html`,
    policy: NOT_RESOURCE,
    principal: { clientId: 'c' },
    action: 'iot:Publish',
    resource: `${ARN}:topic/cmd/x`,
    expected: 'EXPLICIT_DENY',
  },
  {
    name: 'Deny NotResource spares inside',
    source: `${IAM}/reference_policies_elements_notresource.html`,
    policy: NOT_RESOURCE,
    principal: { clientId: 'c' },
    action: 'iot:Publish',
    resource: `${ARN}:topic/dt/x`,
    expected: 'ALLOWED',
  },
  // IAM condition operators: aws:SourceIp (iot-policies.html lists it as usable in Condition)
  {
    name: 'source ip inside',
    source: `${IAM}/reference_policies_elements_condition_operators.html`,
    policy: SOURCE_IP,
    principal: { clientId: 'c', sourceIp: '198.51.100.20' },
    action: 'iot:Connect',
    resource: `${ARN}:client/c`,
    expected: 'ALLOWED',
  },
  {
    name: 'source ip outside',
    source: `${IAM}/reference_policies_elements_condition_operators.html`,
    policy: SOURCE_IP,
    principal: { clientId: 'c', sourceIp: '198.51.101.20' },
    action: 'iot:Connect',
    resource: `${ARN}:client/c`,
    expected: 'IMPLICIT_DENY',
  },
];

describe('AWS IoT policy cases from the documentation', () => {
  it.each(CASES)('$name ($source)', (c) => {
    expect(c.source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
    const d = evaluate([{ policyName: 'doc-example', document: c.policy }], c.action, c.resource, c.principal);
    expect(d.decision).toBe(c.expected);
    if (c.expected === 'CANNOT_DECIDE') expect(d.undecidableKeys.length).toBeGreaterThan(0);
    else expect(d.undecidableKeys).toEqual([]);
  });

  it('covers every kind the issue names', () => {
    const text = JSON.stringify(CASES);
    for (const needle of [
      '${iot:ClientId}',
      'Thing.ThingName',
      'Certificate.Subject',
      'topicfilter',
      'NotAction',
      'NotResource',
      'Deny',
      'Condition',
      'CANNOT_DECIDE',
    ]) {
      expect(text).toContain(needle);
    }
  });
});
