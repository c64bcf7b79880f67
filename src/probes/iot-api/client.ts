/**
 * `IotApi`: the AWS IoT control-plane operations the cloud checks call, each memoized per run, bounded by the call
 * deadline and mapped to an `ApiOutcome`; and the one-API-per-run registry.
 */
import { credentialSourceHint } from './aws-credentials.js';
import { accountFromMessage } from './failures.js';
import type { CallerIdentity, RoleInfo, SimulationDecision } from './iam.js';
import { authorizerInfoOf, testInvokeRequest, testInvokeResultOf } from './authorizers.js';
import { openLocalChannel, type ChannelOutcome, type SigningCredentials } from './channel.js';
import { apiWorkerScript, openWorkerChannel } from './worker-channel.js';
import { IOT_API_PERMISSIONS } from './types.js';
import type {
  ApiFailure,
  ApiOutcome,
  AuthInfoInput,
  AuthResultInfo,
  AuthorizerInfo,
  CaCertificateInfo,
  CertificateInfo,
  CloudSession,
  ConnectivityInfo,
  IotApiOptions,
  IotOperation,
  LogEventInfo,
  LoggingOptionsInfo,
  LogQuery,
  PolicyDocumentInfo,
  PolicyRefInfo,
  RoleAliasInfo,
  SessionOutcome,
  TestInvokeInput,
  TestInvokeResult,
  ThingInfo,
} from './types.js';

/** The validity window of a certificate description, with the dates the SDK parsed. */
function validityOf(d: Record<string, unknown>): { notBefore?: Date; notAfter?: Date } | undefined {
  const v = d['validity'] as { notBefore?: unknown; notAfter?: unknown } | undefined;
  if (!v) return undefined;
  return {
    ...(v.notBefore instanceof Date ? { notBefore: v.notBefore } : {}),
    ...(v.notAfter instanceof Date ? { notAfter: v.notAfter } : {}),
  };
}

/**
 * The AWS IoT control-plane API of one run. The session (SDK, region, AWS credentials) is opened on the first call;
 * each operation is one memoized SDK call (or page loop) with standard retries, bounded by `options.timeoutMs`
 * milliseconds (retries included), whose result is an `ApiOutcome`: it never throws. Operations and their IAM
 * permissions: `IOT_API_PERMISSIONS` (facts §6).
 */
export class IotApi {
  private readonly cache = new Map<string, Promise<unknown>>();
  private ready: Promise<ChannelOutcome> | undefined;
  private learnedAccountId: string | undefined;

  constructor(readonly options: IotApiOptions) {}

  /** Memoize any derived computation for the lifetime of this API object (one run). */
  memo<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let hit = this.cache.get(key) as Promise<T> | undefined;
    if (!hit) this.cache.set(key, (hit = compute()));
    return hit;
  }

  /** Region, credential source and endpoint, or why the cloud checks cannot run. Memoized. */
  async session(): Promise<SessionOutcome> {
    const r = await this.prepare();
    return r.ok ? { ok: true, value: r.value.session } : r;
  }

  /** Account id when known without an extra call: from the credential chain or from an AccessDenied message. */
  knownAccountId(session?: CloudSession): string | undefined {
    return session?.accountId ?? this.learnedAccountId;
  }

  /** Releases the SDK's sockets (and the API worker). The memoized answers stay readable. */
  destroy(): void {
    void this.ready?.then((r) => {
      if (r.ok) r.value.destroy();
    });
  }

  /**
   * Starts opening the session now, without waiting: in the API worker when there is one (the run calls this before
   * the routes start, so the SDK loads on the other core meanwhile).
   */
  start(): void {
    void this.prepare();
  }

  private prepare(): Promise<ChannelOutcome> {
    // Without any credential source the session is the no-credentials failure, decided without the SDK: no worker is
    // started for it (its start and its end would cost the run CPU and ~10 ms at exit, issue 16).
    const noCredentials = !credentialSourceHint(this.options.profile ? { awsProfile: this.options.profile } : {});
    const script = this.options.inThread || noCredentials ? undefined : apiWorkerScript();
    this.ready ??= script ? openWorkerChannel(script, this.options) : openLocalChannel(this.options);
    return this.ready;
  }

  /** One SDK call (`<operation>Command` with `input`), mapped to an outcome. Not memoized (callers memoize). */
  private async send<T>(operation: IotOperation, input: object, map: (output: unknown) => T): Promise<ApiOutcome<T>> {
    const permission = IOT_API_PERMISSIONS[operation];
    const ready = await this.prepare();
    if (!ready.ok) return { ...ready, operation, permission };
    const started = performance.now();
    const answer = await ready.value.call(operation, input);
    if (!answer.ok) {
      const failure = answer;
      if (
        failure.kind === 'unreachable' &&
        /abort|deadline|did not finish/i.test(`${failure.errorName} ${failure.message}`)
      ) {
        failure.message = `no answer within ${this.options.timeoutMs} ms`;
      }
      if (failure.kind === 'access-denied') this.learnedAccountId ??= accountFromMessage(failure.message);
      return failure;
    }
    const output = answer.output;
    const attempts = (output as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
    return { ok: true, value: map(output), operation, attempts, durationMs: Math.round(performance.now() - started) };
  }

  private cached<T>(key: string, run: () => Promise<ApiOutcome<T>>): Promise<ApiOutcome<T>> {
    return this.memo(`api:${key}`, run);
  }

  describeEndpoint(endpointType = 'iot:Data-ATS'): Promise<ApiOutcome<string>> {
    return this.cached(`DescribeEndpoint:${endpointType}`, () =>
      this.send('DescribeEndpoint', { endpointType }, (o) =>
        String((o as { endpointAddress?: string }).endpointAddress ?? ''),
      ),
    );
  }

  describeCertificate(certificateId: string): Promise<ApiOutcome<CertificateInfo>> {
    return this.cached(`DescribeCertificate:${certificateId}`, () =>
      this.send('DescribeCertificate', { certificateId }, (o) => {
        const d = (o as { certificateDescription?: Record<string, unknown> }).certificateDescription ?? {};
        const info: CertificateInfo = {
          certificateArn: String(d['certificateArn'] ?? ''),
          certificateId: String(d['certificateId'] ?? certificateId),
          status: String(d['status'] ?? 'UNKNOWN'),
        };
        copyString(d, info, 'certificateMode');
        copyString(d, info, 'caCertificateId');
        copyString(d, info, 'ownedBy');
        copyString(d, info, 'previousOwnedBy');
        copyString(d, info, 'certificatePem');
        if (d['creationDate'] instanceof Date) info.creationDate = d['creationDate'];
        if (d['lastModifiedDate'] instanceof Date) info.lastModifiedDate = d['lastModifiedDate'];
        const validity = validityOf(d);
        if (validity) info.validity = validity;
        return info;
      }),
    );
  }

  /**
   * The AWS credentials of the session's chain, to sign with (SigV4 WebSocket URL): secrets, never put in a result.
   * Bounded by the call deadline; a failure says why (no credentials, the lookup failed).
   */
  async signingCredentials(): Promise<{ ok: true; value: SigningCredentials } | ApiFailure> {
    const ready = await this.prepare();
    if (!ready.ok) return ready;
    return ready.value.credentials();
  }

  /** DescribeAuthorizer, or DescribeDefaultAuthorizer without a name (field notes §5.5). */
  describeAuthorizer(authorizerName?: string): Promise<ApiOutcome<AuthorizerInfo>> {
    const map = (o: unknown): AuthorizerInfo => authorizerInfoOf(o, authorizerName);
    if (authorizerName === undefined) {
      return this.cached('DescribeDefaultAuthorizer', () => this.send('DescribeDefaultAuthorizer', {}, map));
    }
    return this.cached(`DescribeAuthorizer:${authorizerName}`, () =>
      this.send('DescribeAuthorizer', { authorizerName }, map),
    );
  }

  /**
   * TestInvokeAuthorizer with the probe's own token, signature, MQTT context (the password base64-encoded by the SDK)
   * and SNI. Not memoized: the input holds secrets that must not become cache keys.
   */
  testInvokeAuthorizer(input: TestInvokeInput): Promise<ApiOutcome<TestInvokeResult>> {
    return this.send('TestInvokeAuthorizer', testInvokeRequest(input), testInvokeResultOf);
  }

  describeCACertificate(certificateId: string): Promise<ApiOutcome<CaCertificateInfo>> {
    return this.cached(`DescribeCACertificate:${certificateId}`, () =>
      this.send('DescribeCACertificate', { certificateId }, (o) => {
        const d = (o as { certificateDescription?: Record<string, unknown> }).certificateDescription ?? {};
        const info: CaCertificateInfo = { certificateId, status: String(d['status'] ?? 'UNKNOWN') };
        copyString(d, info, 'certificateArn');
        copyString(d, info, 'autoRegistrationStatus');
        copyString(d, info, 'certificateMode');
        copyString(d, info, 'ownedBy');
        const validity = validityOf(d);
        if (validity) info.validity = validity;
        return info;
      }),
    );
  }

  /** Every page (nextMarker) of the policies attached to a certificate or thing-group ARN. */
  listAttachedPolicies(target: string, recursive = false): Promise<ApiOutcome<PolicyRefInfo[]>> {
    return this.cached(`ListAttachedPolicies:${target}:${recursive}`, () =>
      this.paged(
        'ListAttachedPolicies',
        (marker) => ({ target, recursive, pageSize: 250, ...(marker ? { marker } : {}) }),
        (o) => {
          const out = o as { policies?: { policyName?: string; policyArn?: string }[]; nextMarker?: string };
          return { items: (out.policies ?? []).map(policyRef), next: out.nextMarker };
        },
      ),
    );
  }

  /** Policies that take effect for the principal; with a thing name, also those of the thing's groups. */
  getEffectivePolicies(principal: string, thingName?: string): Promise<ApiOutcome<PolicyDocumentInfo[]>> {
    return this.cached(`GetEffectivePolicies:${principal}:${thingName ?? ''}`, () =>
      this.send('GetEffectivePolicies', { principal, ...(thingName ? { thingName } : {}) }, (o) =>
        (
          (o as { effectivePolicies?: { policyName?: string; policyArn?: string; policyDocument?: string }[] })
            .effectivePolicies ?? []
        ).map((p) => ({
          ...policyRef(p),
          policyDocument: String(p.policyDocument ?? ''),
        })),
      ),
    );
  }

  getPolicy(policyName: string): Promise<ApiOutcome<PolicyDocumentInfo>> {
    return this.cached(`GetPolicy:${policyName}`, () =>
      this.send('GetPolicy', { policyName }, (o) => {
        const p = o as { policyName?: string; policyArn?: string; policyDocument?: string };
        return {
          ...policyRef({ ...p, policyName: p.policyName ?? policyName }),
          policyDocument: String(p.policyDocument ?? ''),
        };
      }),
    );
  }

  /** Every page (nextToken) of the things the principal is attached to. */
  listPrincipalThings(principal: string): Promise<ApiOutcome<string[]>> {
    return this.cached(`ListPrincipalThings:${principal}`, () =>
      this.paged(
        'ListPrincipalThings',
        (nextToken) => ({ principal, maxResults: 250, ...(nextToken ? { nextToken } : {}) }),
        (o) => {
          const out = o as { things?: string[]; nextToken?: string };
          return { items: out.things ?? [], next: out.nextToken };
        },
      ),
    );
  }

  listThingGroupsForThing(thingName: string): Promise<ApiOutcome<{ groupName: string; groupArn?: string }[]>> {
    return this.cached(`ListThingGroupsForThing:${thingName}`, () =>
      this.paged(
        'ListThingGroupsForThing',
        (nextToken) => ({ thingName, maxResults: 250, ...(nextToken ? { nextToken } : {}) }),
        (o) => {
          const out = o as { thingGroups?: { groupName?: string; groupArn?: string }[]; nextToken?: string };
          return {
            items: (out.thingGroups ?? []).map((g) => ({
              groupName: String(g.groupName ?? ''),
              ...(g.groupArn ? { groupArn: g.groupArn } : {}),
            })),
            next: out.nextToken,
          };
        },
      ),
    );
  }

  describeThing(thingName: string): Promise<ApiOutcome<ThingInfo>> {
    return this.cached(`DescribeThing:${thingName}`, () =>
      this.send('DescribeThing', { thingName }, (o) => {
        const t = o as { thingName?: string; thingTypeName?: string; attributes?: Record<string, string> };
        return {
          thingName: t.thingName ?? thingName,
          ...(t.thingTypeName ? { thingTypeName: t.thingTypeName } : {}),
          attributes: { ...(t.attributes ?? {}) },
        };
      }),
    );
  }

  testAuthorization(
    principal: string,
    clientId: string | undefined,
    authInfos: AuthInfoInput[],
  ): Promise<ApiOutcome<AuthResultInfo[]>> {
    return this.cached(`TestAuthorization:${principal}:${clientId ?? ''}:${JSON.stringify(authInfos)}`, () =>
      this.send('TestAuthorization', { principal, authInfos, ...(clientId !== undefined ? { clientId } : {}) }, (o) => {
        const names = (list: { policyName?: string }[] | undefined): string[] =>
          (list ?? []).map((p) => String(p.policyName ?? '')).filter(Boolean);
        type Raw = {
          authInfo?: { actionType?: string; resources?: string[] };
          allowed?: { policies?: { policyName?: string }[] };
          denied?: {
            implicitDeny?: { policies?: { policyName?: string }[] };
            explicitDeny?: { policies?: { policyName?: string }[] };
          };
          authDecision?: string;
          missingContextValues?: string[];
        };
        return ((o as { authResults?: Raw[] }).authResults ?? []).map((r) => ({
          actionType: String(r.authInfo?.actionType ?? ''),
          resources: r.authInfo?.resources ?? [],
          decision: String(r.authDecision ?? 'IMPLICIT_DENY'),
          allowedBy: names(r.allowed?.policies),
          explicitDenyBy: names(r.denied?.explicitDeny?.policies),
          implicitDenyBy: names(r.denied?.implicitDeny?.policies),
          missingContextValues: r.missingContextValues ?? [],
        }));
      }),
    );
  }

  /**
   * GetThingConnectivityData (field notes §7.2) with the socket details asked for: connected, since when, the last
   * disconnect reason. Needs `iot:GetThingConnectivityData` on the thing.
   */
  getThingConnectivityData(thingName: string): Promise<ApiOutcome<ConnectivityInfo>> {
    return this.cached(`GetThingConnectivityData:${thingName}`, () =>
      this.send('GetThingConnectivityData', { thingName, includeSocketInformation: true }, (o) => {
        const d = o as Record<string, unknown>;
        const info: ConnectivityInfo = { thingName, connected: d['connected'] === true };
        if (d['timestamp'] instanceof Date) info.timestamp = d['timestamp'];
        copyString(d, info, 'disconnectReason');
        copyString(d, info, 'clientId');
        copyString(d, info, 'sourceIp');
        if (typeof d['sourcePort'] === 'number') info.sourcePort = d['sourcePort'];
        if (typeof d['keepAliveDuration'] === 'number') info.keepAliveDuration = d['keepAliveDuration'];
        return info;
      }),
    );
  }

  /** GetV2LoggingOptions (field notes §7.6): the account's logging role, default level, disableAllLogs. */
  getV2LoggingOptions(): Promise<ApiOutcome<LoggingOptionsInfo>> {
    return this.cached('GetV2LoggingOptions', () =>
      this.send('GetV2LoggingOptions', {}, (o) => {
        const d = o as Record<string, unknown>;
        const info: LoggingOptionsInfo = { disableAllLogs: d['disableAllLogs'] === true };
        copyString(d, info, 'roleArn');
        copyString(d, info, 'defaultLogLevel');
        return info;
      }),
    );
  }

  /**
   * CloudWatch Logs FilterLogEvents with this run's region and AWS credentials (logs.ts); not memoized, since the
   * caller polls while AWS ingests. Needs `logs:FilterLogEvents`.
   */
  async filterLogEvents(query: LogQuery): Promise<ApiOutcome<LogEventInfo[]>> {
    const ready = await this.prepare();
    if (!ready.ok) return { ...ready, operation: 'FilterLogEvents', permission: 'logs:FilterLogEvents' };
    return ready.value.filterLogEvents(query);
  }

  /** DescribeRoleAlias (field notes §6.4): the alias's role ARN and credential duration. Memoized. */
  describeRoleAlias(roleAlias: string): Promise<ApiOutcome<RoleAliasInfo>> {
    return this.cached(`DescribeRoleAlias:${roleAlias}`, () =>
      this.send('DescribeRoleAlias', { roleAlias }, (o) => {
        const d = (o as { roleAliasDescription?: Record<string, unknown> }).roleAliasDescription ?? {};
        const seconds = d['credentialDurationSeconds'];
        return {
          roleAlias: String(d['roleAlias'] ?? roleAlias),
          roleAliasArn: String(d['roleAliasArn'] ?? ''),
          roleArn: String(d['roleArn'] ?? ''),
          credentialDurationSeconds: typeof seconds === 'number' ? seconds : 3600,
        };
      }),
    );
  }

  /** IAM GetRole of `roleName` with this run's credentials (iam.ts), memoized. */
  role(roleName: string): Promise<ApiOutcome<RoleInfo>> {
    return this.cached(`GetRole:${roleName}`, async () => {
      const r = await this.prepare();
      if (!r.ok) return { ...r, operation: 'GetRole', permission: 'iam:GetRole' };
      return r.value.role(roleName);
    });
  }

  /** STS GetCallerIdentity with this run's credentials (iam.ts), memoized. */
  callerIdentity(): Promise<ApiOutcome<CallerIdentity>> {
    return this.cached('GetCallerIdentity', async () => {
      const r = await this.prepare();
      if (!r.ok) return { ...r, operation: 'GetCallerIdentity', permission: 'sts:GetCallerIdentity' };
      return r.value.callerIdentity();
    });
  }

  /** IAM SimulatePrincipalPolicy of one action on one resource for `sourceArn` (iam.ts), memoized. */
  simulate(input: { sourceArn: string; action: string; resource: string }): Promise<ApiOutcome<SimulationDecision>> {
    return this.cached(`Simulate:${input.sourceArn}:${input.action}:${input.resource}`, async () => {
      const r = await this.prepare();
      if (!r.ok) return { ...r, operation: 'SimulatePrincipalPolicy', permission: 'iam:SimulatePrincipalPolicy' };
      return r.value.simulate(input);
    });
  }

  private async paged<T>(
    operation: IotOperation,
    build: (token: string | undefined) => object,
    read: (output: unknown) => { items: T[]; next: string | undefined },
  ): Promise<ApiOutcome<T[]>> {
    const items: T[] = [];
    let token: string | undefined;
    let attempts = 0;
    let durationMs = 0;
    const seen = new Set<string>();
    for (let page = 0; page < 200; page += 1) {
      const out = await this.send(operation, build(token), read);
      if (!out.ok) return out;
      attempts += out.attempts;
      durationMs += out.durationMs;
      items.push(...out.value.items);
      token = out.value.next || undefined;
      if (!token || seen.has(token)) break;
      seen.add(token);
    }
    return { ok: true, value: items, operation, attempts, durationMs };
  }
}

function copyString<T extends object>(from: Record<string, unknown>, to: T, key: keyof T & string): void {
  const v = from[key];
  if (typeof v === 'string' && v) (to as Record<string, unknown>)[key] = v;
}

function policyRef(p: { policyName?: string | undefined; policyArn?: string | undefined }): PolicyRefInfo {
  return { policyName: String(p.policyName ?? ''), ...(p.policyArn ? { policyArn: p.policyArn } : {}) };
}
