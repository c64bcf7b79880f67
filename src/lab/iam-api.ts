/**
 * STS and IAM look-alikes for the lab's signing identity, in the AWS Query protocol the real `@aws-sdk/client-sts`
 * and `@aws-sdk/client-iam` speak (`POST /`, form body `Action=…&Version=…`, XML answers; errors as
 * `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>…`):
 *
 * - GetCallerIdentity (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html): `Arn`,
 *   `UserId`, `Account`. It needs no permission, so no fault denies it. Credentials with a session token are a role
 *   session (`arn:aws:sts::<account>:assumed-role/<role>/<session>`), others the IAM user `lab-user`.
 * - SimulatePrincipalPolicy (https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html):
 *   `PolicySourceArn` must be a user, group or role ARN (an assumed-role session ARN is refused with InvalidInput, as
 *   the parameter's type allows only those); an identity that is not the lab's is NoSuchEntity; the answer is one
 *   `EvaluationResults` member per action and resource, `EvalDecision` `allowed` or `implicitDeny` from the scenario's
 *   IAM switch for `iot:Connect` (the lab plays an IAM policy with or without it) and `implicitDeny` for anything
 *   else. `iam:SimulatePrincipalPolicy` in the denied actions answers 403 AccessDenied.
 */
import { randomUUID } from 'node:crypto';

/** The answer: HTTP status and XML body. */
export interface QueryAnswer {
  status: number;
  xml: string;
}

/** What the look-alikes need: the account, whether the identity may iot:Connect, the faults of the scenario. */
export interface IamApiContext {
  accountId: string;
  /** The lab IAM identity's policy allows iot:Connect (the scenario's WebSocket IAM switch). */
  allowsConnect: boolean;
  /** The request carried a session token (temporary credentials: a role session). */
  sessionToken: boolean;
  /** IAM actions answered with 403 AccessDenied (`iam:SimulatePrincipalPolicy`, `iam:GetRole`). */
  accessDenied: Set<string>;
  /** The account's roles (for GetRole): whether each trusts credentials.iot.amazonaws.com, its MaxSessionDuration. */
  roles?: ReadonlyMap<string, { roleArn: string; trustsCredentialProvider: boolean; maxSessionDuration: number }>;
}

/** The IAM user and the role of the lab's signing identity. */
export const LAB_IAM_USER = 'lab-user';
export const LAB_IAM_ROLE = 'lab-device-role';
const LAB_ROLE_SESSION = 'iot-doctor-session';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
/** At most this many actions × resources are evaluated per call (AWS pages larger answers; the lab refuses them). */
const MAX_ROWS = 100;

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function error(ns: string, status: number, code: string, message: string): QueryAnswer {
  const xml =
    `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>${code}</Code>` +
    `<Message>${esc(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
  return { status, xml };
}

function ok(ns: string, action: string, result: string): QueryAnswer {
  const xml =
    `<${action}Response xmlns="${ns}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
  return { status: 200, xml };
}

/** The values of a Query list parameter `<name>.member.N`, in order. */
function members(form: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; i <= MAX_ROWS + 1 && form.has(`${name}.member.${i}`); i++) out.push(form.get(`${name}.member.${i}`)!);
  return out;
}

function callerIdentity(ctx: IamApiContext): QueryAnswer {
  const arn = ctx.sessionToken
    ? `arn:aws:sts::${ctx.accountId}:assumed-role/${LAB_IAM_ROLE}/${LAB_ROLE_SESSION}`
    : `arn:aws:iam::${ctx.accountId}:user/${LAB_IAM_USER}`;
  const userId = ctx.sessionToken ? `AROALABROLE0000000000:${LAB_ROLE_SESSION}` : 'AIDALABUSER0000000000';
  return ok(
    STS_NS,
    'GetCallerIdentity',
    `<Arn>${arn}</Arn><UserId>${userId}</UserId><Account>${ctx.accountId}</Account>`,
  );
}

function simulate(form: URLSearchParams, ctx: IamApiContext): QueryAnswer {
  const caller = ctx.sessionToken
    ? `arn:aws:sts::${ctx.accountId}:assumed-role/${LAB_IAM_ROLE}/${LAB_ROLE_SESSION}`
    : `arn:aws:iam::${ctx.accountId}:user/${LAB_IAM_USER}`;
  const source = form.get('PolicySourceArn') ?? '';
  if (ctx.accessDenied.has('iam:SimulatePrincipalPolicy')) {
    const text =
      `User: ${caller} is not authorized to perform: iam:SimulatePrincipalPolicy on resource: ${source} ` +
      'because no identity-based policy allows the iam:SimulatePrincipalPolicy action';
    return error(IAM_NS, 403, 'AccessDenied', text);
  }
  const kind = /^arn:aws[\w-]*:iam::(\d{12}):(user|group|role)\/(.+)$/.exec(source);
  if (!kind) return error(IAM_NS, 400, 'InvalidInput', `Invalid ARN: ${source} is not a user, group or role ARN.`);
  const own =
    kind[1] === ctx.accountId &&
    ((kind[2] === 'user' && kind[3] === LAB_IAM_USER) || (kind[2] === 'role' && kind[3] === LAB_IAM_ROLE));
  if (!own) return error(IAM_NS, 404, 'NoSuchEntity', `The ${kind[2]} with name ${kind[3]} cannot be found.`);
  const actions = members(form, 'ActionNames');
  const resources = members(form, 'ResourceArns');
  if (!actions.length) return error(IAM_NS, 400, 'InvalidInput', 'ActionNames must contain at least one action.');
  const targets = resources.length ? resources : ['*'];
  if (actions.length * targets.length > MAX_ROWS) return error(IAM_NS, 400, 'InvalidInput', 'Too many rows.');
  const rows = actions.flatMap((action) =>
    targets.map((resource) => {
      const allowed = ctx.allowsConnect && action.toLowerCase() === 'iot:connect';
      const matched = allowed
        ? '<MatchedStatements><member><SourcePolicyId>lab-iam-identity</SourcePolicyId>' +
          '<SourcePolicyType>IAM Policy</SourcePolicyType></member></MatchedStatements>'
        : '<MatchedStatements/>';
      return (
        `<member><EvalActionName>${esc(action)}</EvalActionName><EvalResourceName>${esc(resource)}</EvalResourceName>` +
        `<EvalDecision>${allowed ? 'allowed' : 'implicitDeny'}</EvalDecision>${matched}` +
        '<MissingContextValues/></member>'
      );
    }),
  );
  return ok(
    IAM_NS,
    'SimulatePrincipalPolicy',
    `<IsTruncated>false</IsTruncated><EvaluationResults>${rows.join('')}</EvaluationResults>`,
  );
}

/** The trust policy of a lab role: the credential provider's service principal, or another service's. */
function trustPolicy(trusts: boolean): string {
  const service = trusts ? 'credentials.iot.amazonaws.com' : 'ec2.amazonaws.com';
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
}

/**
 * GetRole (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html): `Role` with its `Arn`,
 * `MaxSessionDuration` and the URL-encoded `AssumeRolePolicyDocument`; NoSuchEntity (404) for an unknown role.
 */
function getRole(form: URLSearchParams, ctx: IamApiContext): QueryAnswer {
  const name = form.get('RoleName') ?? '';
  const arn = `arn:aws:iam::${ctx.accountId}:role/${name}`;
  if (ctx.accessDenied.has('iam:GetRole')) {
    const text = `User: arn:aws:iam::${ctx.accountId}:user/${LAB_IAM_USER} is not authorized to perform: iam:GetRole on resource: role ${name} because no identity-based policy allows the iam:GetRole action`;
    return error(IAM_NS, 403, 'AccessDenied', text);
  }
  const role = ctx.roles?.get(arn);
  if (!role) return error(IAM_NS, 404, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
  const doc = encodeURIComponent(trustPolicy(role.trustsCredentialProvider));
  const body =
    `<Role><Path>/</Path><RoleName>${esc(name)}</RoleName><RoleId>AROALABROLE0000000000</RoleId><Arn>${esc(arn)}</Arn>` +
    `<CreateDate>2026-01-01T00:00:00Z</CreateDate><AssumeRolePolicyDocument>${doc}</AssumeRolePolicyDocument>` +
    `<MaxSessionDuration>${role.maxSessionDuration}</MaxSessionDuration></Role>`;
  return ok(IAM_NS, 'GetRole', body);
}

/**
 * Answers one AWS Query request (`form`: the parsed form body) for STS or IAM, see the file comment. Unknown actions
 * get 400 InvalidAction. Never throws.
 */
export function answerQueryRequest(form: URLSearchParams, ctx: IamApiContext): QueryAnswer {
  const action = form.get('Action') ?? '';
  if (action === 'GetCallerIdentity') return callerIdentity(ctx);
  if (action === 'SimulatePrincipalPolicy') return simulate(form, ctx);
  if (action === 'GetRole') return getRole(form, ctx);
  return error(IAM_NS, 400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
}
