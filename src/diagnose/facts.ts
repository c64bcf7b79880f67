/**
 * A read-only view of one run's results, with the questions every rule asks: which routes ran, where a route
 * stopped, whether it got through, what a check said. Pure: no I/O, no clock.
 */
import {
  routeSpecOf,
  STAGE_IDS,
  routeResultId,
  type CheckResult,
  type Finding,
  type RouteId,
  type Severity,
  type StageId,
} from '../model/index.js';
import { EXPECTED_BLOCKED } from '../site-profile.js';
import type { DiagnosisCode, ResultCode } from './codes.js';

export interface DiagnoseContext {
  /** Routes a site profile expects to be blocked: their blocking is not a finding. */
  expectedBlocked?: RouteId[];
}

/** TLS failures that happen before any certificate is seen: the transport was cut, not the trust. */
export const TRANSPORT_TLS_CODES: readonly ResultCode[] = ['TLS_STALLED', 'TLS_RESET', 'TLS_CLOSED', 'TLS_NOT_TLS'];

/** Whether result `r` (possibly absent) carries one of `codes`. Typed, so a rule cannot read a code no check has. */
export function isCode(r: Pick<CheckResult, 'code'> | undefined, ...codes: readonly ResultCode[]): boolean {
  return !!r && (codes as readonly string[]).includes(r.code);
}

/** The entry of a table keyed by result code for `code` (a report's plain string); undefined when none. */
export function byCode<T>(table: Partial<Readonly<Record<ResultCode, T>>>, code: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(table, code) ? (table as Record<string, T>)[code] : undefined;
}

/** How a TCP connect failed, by code. */
export const TCP_BLOCK_HOW: Partial<Readonly<Record<ResultCode, 'timeout' | 'refused' | 'unreachable'>>> = {
  TCP_TIMEOUT: 'timeout',
  TCP_REFUSED: 'refused',
  TCP_UNREACHABLE: 'unreachable',
};

export const FAILING: ReadonlySet<string> = new Set(['fail', 'error']);

/** Whether a result (possibly absent) failed or could not complete. */
export function isFailing(r: CheckResult | undefined): boolean {
  return !!r && FAILING.has(r.status);
}

/** Whether a result failed, warned or could not complete. */
export function isProblem(r: CheckResult): boolean {
  return r.status === 'fail' || r.status === 'error' || r.status === 'warn';
}

/** The results of one run, indexed by id, with the route questions every rule asks. Read-only. */
export class Facts {
  readonly results: readonly CheckResult[];
  readonly expectedBlocked: ReadonlySet<RouteId>;
  private readonly byId = new Map<string, CheckResult>();
  /** The first result of each route and stage (`<route> <stage>`): rules ask for cells many times per run. */
  private readonly byCell = new Map<string, CheckResult>();
  private routeList: RouteId[] | undefined;

  constructor(results: readonly CheckResult[], ctx: DiagnoseContext = {}) {
    this.results = results;
    for (const r of results) {
      if (!this.byId.has(r.id)) this.byId.set(r.id, r);
      const key = r.route && r.stage ? `${r.route} ${r.stage}` : undefined;
      if (key && !this.byCell.has(key)) this.byCell.set(key, r);
    }
    // Routes a profile already marked (EXPECTED_BLOCKED cells) count as expected-blocked too.
    const marked = results.filter((r) => isCode(r, EXPECTED_BLOCKED) && r.route).map((r) => r.route as RouteId);
    this.expectedBlocked = new Set([...(ctx.expectedBlocked ?? []), ...marked]);
  }

  /** An expected-blocked route that is indeed blocked (at TCP, or TLS cut off before any certificate). */
  blockedAsExpected(route: RouteId): boolean {
    if (!this.expectedBlocked.has(route)) return false;
    const cells = this.cells(route);
    if (cells.some((c) => isCode(c, EXPECTED_BLOCKED))) return true;
    const b = cells.find(isFailing);
    return !!b && (b.stage === 'tcp' || (b.stage === 'tls' && isCode(b, ...TRANSPORT_TLS_CODES)));
  }

  get(id: string): CheckResult | undefined {
    return this.byId.get(id);
  }

  /** The first result of a check id whose code is one of `codes` (also `<id>:<CODE>` results of file checks). */
  find(idPrefix: string, codes: readonly ResultCode[]): CheckResult | undefined {
    return this.results.find((r) => (r.id === idPrefix || r.id.startsWith(`${idPrefix}:`)) && isCode(r, ...codes));
  }

  /** The result of check `id` when it has code `code`. */
  is(id: string, ...codes: ResultCode[]): CheckResult | undefined {
    const r = this.byId.get(id);
    return r && isCode(r, ...codes) ? r : undefined;
  }

  /** Routes with at least one stage result, in catalogue order. */
  routes(): RouteId[] {
    this.routeList ??= [...new Set(this.results.filter((r) => r.route && r.stage).map((r) => r.route as RouteId))];
    return [...this.routeList];
  }

  /** Routes that count: present, and not blocked the way the site profile expects. */
  relevantRoutes(): RouteId[] {
    return this.routes().filter((r) => !this.blockedAsExpected(r));
  }

  cell(route: RouteId, stage: StageId): CheckResult | undefined {
    return this.byId.get(routeResultId(route, stage)) ?? this.byCell.get(`${route} ${stage}`);
  }

  cells(route: RouteId): CheckResult[] {
    return STAGE_IDS.map((s) => this.cell(route, s)).filter((r): r is CheckResult => !!r);
  }

  /** The first failing (or erroring) stage of a route. */
  blocker(route: RouteId): CheckResult | undefined {
    return this.cells(route).find(isFailing);
  }

  passed(route: RouteId, stage: StageId): boolean {
    return this.cell(route, stage)?.status === 'pass';
  }

  /**
   * The route got through the network: TLS completed, the server selected the ALPN it needs (routes that offer none,
   * `mqtt-wss-443` and `credentials-443`, have no alpn cell).
   */
  getsThrough(route: RouteId): boolean {
    const alpn = this.cell(route, 'alpn');
    return this.passed(route, 'tls') && (!alpn || alpn.status === 'pass');
  }

  /** Nothing on the route failed, and it got at least as far as TLS. */
  works(route: RouteId): boolean {
    return this.getsThrough(route) && !this.cells(route).some(isFailing);
  }

  anyRouteWorks(): boolean {
    return this.relevantRoutes().some((r) => this.works(r));
  }

  /** Route cells with one of `codes` on routes that count. */
  routeCells(codes: readonly ResultCode[], stage?: StageId): CheckResult[] {
    return this.relevantRoutes().flatMap((route) =>
      this.cells(route).filter((c) => isCode(c, ...codes) && (!stage || c.stage === stage)),
    );
  }

  /** The endpoint name the routes used: SNI from a TLS stage, else the resolved name. */
  /**
   * `host:port` a route really connected to (the tcp cell's evidence, which follows --connect-to), for the
   * commands a finding suggests; the endpoint name and the route's standard port when the route never got there.
   */
  connectTarget(route: RouteId | undefined): string {
    const tcp = route ? this.cell(route, 'tcp') : undefined;
    const address = str(tcp?.evidence['address']);
    const port = num(tcp?.evidence['port']);
    if (address && port) return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    return `${this.endpointName() ?? '<endpoint>'}:${route ? portOf(route) : 8883}`;
  }

  endpointName(): string | undefined {
    for (const r of this.results) {
      if (r.stage === 'tls' && typeof r.evidence['sni'] === 'string') return r.evidence['sni'];
    }
    for (const r of this.results) {
      if (r.stage === 'dns' && !isCode(r, 'DNS_OVERRIDE') && typeof r.evidence['name'] === 'string')
        return r.evidence['name'];
    }
    return undefined;
  }

  /** The MQTT client id the probe used, when an MQTT stage recorded it. */
  clientId(): string | undefined {
    for (const r of this.results) if (typeof r.evidence['clientId'] === 'string') return r.evidence['clientId'];
    return undefined;
  }

  topic(): string | undefined {
    for (const r of this.results) if (r.route && typeof r.evidence['topic'] === 'string') return r.evidence['topic'];
    return undefined;
  }
}

/** The standard AWS IoT port of a route (8883, 443 or 8443). */
export function portOf(route: RouteId): number {
  return routeSpecOf(route)?.port ?? 0;
}

/** `items` without repeats, in first-seen order. */
export function uniq<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** The distinct ids of the given results (absent ones skipped), for a finding's `evidence`. */
export function ids(results: readonly (CheckResult | undefined)[]): string[] {
  return uniq(results.filter((r): r is CheckResult => !!r).map((r) => r.id));
}

/** `v` when it is a non-empty string, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `v` when it is a finite number, else undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Names from an evidence list that holds strings or `{ policyName }` / `{ name }` objects. */
export function names(v: unknown): string[] {
  if (!Array.isArray(v)) return typeof v === 'string' && v ? [v] : [];
  return v.flatMap((item) => {
    if (typeof item === 'string') return [item];
    if (item && typeof item === 'object') {
      const o = item as Record<string, unknown>;
      const n = str(o['policyName']) ?? str(o['name']);
      return n ? [n] : [];
    }
    return [];
  });
}

/** An English list: `a`, `a and b`, `a, b and c` (`conj` replaces `and`). */
export function list(items: readonly string[], conj = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conj} ${items.at(-1)}`;
}

/** `word` for 1, else `many` (default `word` + s). */
export function plural(n: number, word: string, many = `${word}s`): string {
  return n === 1 ? word : many;
}

/** Finding fields other than the code. */
export type FindingInput = Omit<Finding, 'code'>;

/** A `Finding` with the given code; evidence ids deduplicated, `candidates` left out when empty. */
export function finding(code: DiagnosisCode, f: FindingInput): Finding {
  return {
    code,
    severity: f.severity,
    confidence: f.confidence,
    title: f.title,
    explanation: f.explanation,
    remediation: f.remediation,
    params: f.params,
    evidence: uniq(f.evidence),
    ...(f.candidates && f.candidates.length > 0 ? { candidates: f.candidates } : {}),
    ...(f.ruledOut && f.ruledOut.length > 0 ? { ruledOut: f.ruledOut } : {}),
  };
}

/** Critical when routes were probed and none that counts works; otherwise error. */
export function routeSeverity(facts: Facts): Severity {
  return facts.relevantRoutes().length === 0 || facts.anyRouteWorks() ? 'error' : 'critical';
}

/** Looks like the Amazon Trust Services hierarchy (Amazon RSA/ECDSA intermediates, Amazon roots, Starfield G2). */
export function looksAmazon(name: string): boolean {
  return /\bAmazon\b|Starfield/i.test(name);
}

export interface ChainEntry {
  subject: string;
  issuer: string;
  fingerprint256?: string;
  subjectAltName?: string;
}

/** The presented chain a tls cell recorded in its evidence (`chain`), leaf first; [] when none. */
export function chainOf(r: CheckResult | undefined): ChainEntry[] {
  const chain = r?.evidence['chain'];
  if (!Array.isArray(chain)) return [];
  return chain.flatMap((c) => {
    if (!c || typeof c !== 'object') return [];
    const o = c as Record<string, unknown>;
    const subject = str(o['subject']) ?? '';
    const issuer = str(o['issuer']) ?? '';
    const fp = str(o['fingerprint256']);
    const san = str(o['subjectAltName']);
    return [{ subject, issuer, ...(fp ? { fingerprint256: fp } : {}), ...(san ? { subjectAltName: san } : {}) }];
  });
}

/** Whether any certificate of the chain names Amazon or Starfield as subject or issuer (facts §2.3). */
export function chainLooksAmazon(chain: readonly ChainEntry[]): boolean {
  return chain.some((c) => looksAmazon(c.issuer) || looksAmazon(c.subject));
}

/** The issuer at the top of a presented chain (what the chain claims to end at). */
export function topIssuer(chain: readonly ChainEntry[]): string | undefined {
  return chain.at(-1)?.issuer || undefined;
}

/** Route results that show the server refused the device after (or during) the handshake. */
export const AUTH_SYMPTOM_CODES: readonly ResultCode[] = [
  'CLIENT_CERT_REJECTED',
  'MQTT_CLOSED_AFTER_CONNECT',
  'MQTT_CONNACK_REFUSED',
  'HTTP_FORBIDDEN',
  'HTTP_UNAUTHORIZED',
  'HTTP_CLOSED_WITHOUT_RESPONSE',
];

/** Auth symptoms plus local TLS errors (a bad key fails the handshake on this side). */
export function credentialSymptoms(facts: Facts): CheckResult[] {
  return facts.routeCells([...AUTH_SYMPTOM_CODES, 'TLS_ERROR']);
}

/** Route cells on routes that count where the server refused the device (`AUTH_SYMPTOM_CODES`). */
export function authSymptoms(facts: Facts): CheckResult[] {
  return facts.routeCells(AUTH_SYMPTOM_CODES);
}

/** The device certificate id (SHA-256 of its DER) as any result recorded it. */
export function certificateId(facts: Facts): string | undefined {
  for (const r of facts.results) {
    const id = str(r.evidence['certificateId']);
    if (id) return id;
  }
  return undefined;
}
