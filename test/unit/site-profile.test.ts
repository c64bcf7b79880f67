import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { UsageError } from '../../src/errors.js';
import { ROUTE_IDS, exitCodeFor } from '../../src/model/index.js';
import {
  ROUTE_EXPECTATIONS,
  applySiteProfile,
  builtinSiteProfileDir,
  builtinSiteProfiles,
  expectedBlockedRoutes,
  loadSiteProfile,
  parseSiteProfile,
  siteProfileRoutes,
  resolveSiteProfile,
  type SiteProfile,
} from '../../src/site-profile.js';
import { allRoutes, check, codes, fail, localPasses, route } from './diagnose-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'iot-doctor-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const factory: SiteProfile = {
  name: '443-only',
  routes: { 'mqtt-8883': 'blocked', 'mqtt-443': 'pass', 'https-8443': 'blocked', 'https-443': 'pass' },
  checks: [],
};

describe('shipped profiles', () => {
  it('all-routes, 443-only and mqtt-only load and say what they should', () => {
    expect(builtinSiteProfiles()).toEqual(['443-only', 'all-routes', 'mqtt-only']);
    const all = resolveSiteProfile('all-routes');
    expect(siteProfileRoutes(all)).toEqual([...ROUTE_IDS]);
    expect(expectedBlockedRoutes(all)).toEqual([]);
    const f = resolveSiteProfile('443-only');
    expect(expectedBlockedRoutes(f)).toEqual(['mqtt-8883', 'https-8443']);
    expect(ROUTE_IDS.filter((r) => f.routes[r] === 'pass')).toEqual(['mqtt-443', 'https-443']);
    const mqtt = resolveSiteProfile('mqtt-only');
    expect(siteProfileRoutes(mqtt)).toEqual(['mqtt-8883', 'mqtt-443']);
    for (const p of [all, f, mqtt]) expect(p.checks).toContain('cert.key-match');
  });

  it('the published schema agrees with the code', () => {
    const schema = JSON.parse(readFileSync(join(builtinSiteProfileDir()!, 'profile.schema.json'), 'utf8'));
    expect(Object.keys(schema.properties.routes.properties)).toEqual([...ROUTE_IDS]);
    expect(schema.$defs.expectation.enum).toEqual([...ROUTE_EXPECTATIONS]);
    expect(schema.required).toEqual(['name', 'routes']);
    expect(Object.keys(schema.properties).sort()).toEqual(['$schema', 'checks', 'description', 'name', 'routes']);
    for (const name of builtinSiteProfiles()) {
      const doc = JSON.parse(readFileSync(join(builtinSiteProfileDir()!, `${name}.json`), 'utf8'));
      expect(doc.$schema).toBe('./profile.schema.json');
      expect(doc.name).toBe(name);
    }
  });

  it('an unknown name lists the shipped ones', () => {
    expect(() => resolveSiteProfile('444-only')).toThrow(
      /no profile named "444-only" \(shipped: 443-only, all-routes, mqtt-only\)/,
    );
  });
});

describe('loadSiteProfile', () => {
  it('reads a file', () => {
    const p = file(
      'site.json',
      JSON.stringify({
        name: 'site-a',
        description: 'Plant A',
        routes: { 'mqtt-443': 'pass', 'mqtt-8883': 'any' },
        checks: ['cert.*'],
      }),
    );
    expect(loadSiteProfile(p)).toEqual({
      name: 'site-a',
      description: 'Plant A',
      routes: { 'mqtt-443': 'pass', 'mqtt-8883': 'any' },
      checks: ['cert.*'],
      source: `profile ${p}`,
    });
    expect(resolveSiteProfile(p).name).toBe('site-a');
  });

  it('says exactly what is wrong, as a UsageError', () => {
    const cases: [string, RegExp][] = [
      ['{', /is not valid JSON/],
      ['[]', /expected a JSON object/],
      ['{"routes":{"mqtt-443":"pass"}}', /"name" must be a short name/],
      ['{"name":"x y","routes":{"mqtt-443":"pass"}}', /"name" must be a short name/],
      [
        '{"name":"x","routes":{"mqtt-444":"pass"}}',
        /routes: "mqtt-444" is not a route \(known: mqtt-8883, mqtt-443, https-8443, https-443\)/,
      ],
      ['{"name":"x","routes":{"mqtt-443":"open"}}', /routes\.mqtt-443: "open" is not an expectation/],
      ['{"name":"x","routes":{}}', /"routes" names no route/],
      ['{"name":"x","routes":[]}', /"routes" must be an object/],
      ['{"name":"x","routes":{"mqtt-443":"pass"},"checks":"cert.*"}', /"checks" must be a list/],
      ['{"name":"x","routes":{"mqtt-443":"pass"},"checks":["Cert Key"]}', /checks\[0\]: "Cert Key" is not a check id/],
      [
        '{"name":"x","routes":{"mqtt-443":"pass"},"checks":["cert.*","cert.*"]}',
        /checks\[1\]: "cert\.\*" is listed twice/,
      ],
      ['{"name":"x","routes":{"mqtt-443":"pass"},"expect":{}}', /unknown key "expect"/],
      ['{"name":"x","description":3,"routes":{"mqtt-443":"pass"}}', /"description" must be a string/],
    ];
    cases.forEach(([text, message], i) => {
      const p = file(`bad-${i}.json`, text);
      expect(() => loadSiteProfile(p), text).toThrow(UsageError);
      expect(() => loadSiteProfile(p), text).toThrow(message);
      expect(() => loadSiteProfile(p), text).toThrow(p);
    });
    expect(() => loadSiteProfile(join(dir, 'missing.json'))).toThrow(/cannot read profile .*missing\.json/);
  });

  it('parseSiteProfile accepts "$schema" and defaults checks', () => {
    expect(
      parseSiteProfile({ $schema: './profile.schema.json', name: 'a', routes: { 'https-443': 'blocked' } }),
    ).toEqual({
      name: 'a',
      routes: { 'https-443': 'blocked' },
      checks: [],
      source: 'profile',
    });
  });
});

describe('applySiteProfile', () => {
  it('443-only site, 8883 and 8443 blocked: cells EXPECTED_BLOCKED, the run passes, the diagnosis is HEALTHY', () => {
    const results = [
      ...localPasses(),
      ...allRoutes({
        'mqtt-8883': {
          tcp: fail(
            'TCP_TIMEOUT',
            { address: '198.51.100.20', port: 8883 },
            { summary: 'no answer within 5000 ms', hint: 'allow 8883', reproduce: 'nc -vz 198.51.100.20 8883' },
          ),
        },
        'https-8443': { tls: fail('TLS_RESET', { bytesFromServer: 0 }, { summary: 'reset during the handshake' }) },
      }),
    ];
    expect(exitCodeFor(results)).toBe(1);
    const applied = applySiteProfile(results, factory);
    expect(applied).toHaveLength(results.length);
    const tcp = applied.find((r) => r.id === 'route.mqtt-8883.tcp')!;
    expect(tcp).toMatchObject({
      status: 'skip',
      code: 'EXPECTED_BLOCKED',
      summary: 'blocked as profile "443-only" expects: no answer within 5000 ms',
      reproduce: 'nc -vz 198.51.100.20 8883',
      evidence: {
        address: '198.51.100.20',
        port: 8883,
        originalStatus: 'fail',
        originalCode: 'TCP_TIMEOUT',
        originalSummary: 'no answer within 5000 ms',
        profile: '443-only',
      },
    });
    expect(tcp.hint).toBeUndefined();
    expect(applied.find((r) => r.id === 'route.https-8443.tls')).toMatchObject({
      status: 'skip',
      code: 'EXPECTED_BLOCKED',
      evidence: { originalCode: 'TLS_RESET' },
    });
    // The facts after the blocked stage stay as they were.
    expect(applied.find((r) => r.id === 'route.mqtt-8883.tls')).toMatchObject({
      status: 'skip',
      code: 'SKIPPED',
      summary: 'blocked by tcp: TCP_TIMEOUT',
    });
    expect(exitCodeFor(applied)).toBe(0);
    const findings = diagnose(applied, { expectedBlocked: expectedBlockedRoutes(factory) });
    expect(codes(findings)).toEqual(['HEALTHY']);
    expect(findings[0]!.params['expectedBlocked']).toEqual(['mqtt-8883', 'https-8443']);
    // Without the context, the marked cells alone say the same.
    expect(codes(diagnose(applied))).toEqual(['HEALTHY']);
  });

  it('a route expected blocked that connects: UNEXPECTEDLY_OPEN warning on its tcp cell', () => {
    const results = [...localPasses(), ...allRoutes({ 'https-8443': { tcp: fail('TCP_TIMEOUT') } })];
    const applied = applySiteProfile(results, factory);
    const tcp = applied.find((r) => r.id === 'route.mqtt-8883.tcp')!;
    expect(tcp).toMatchObject({
      status: 'warn',
      code: 'UNEXPECTEDLY_OPEN',
      evidence: { originalStatus: 'pass', originalCode: 'TCP_OK', profile: '443-only' },
    });
    expect(tcp.summary).toMatch(/^profile "443-only" expects this route to be blocked, but it connected: /);
    expect(tcp.hint).toMatch(/port 8883 is blocked here/);
    expect(exitCodeFor(applied)).toBe(0);
    expect(exitCodeFor(applied, true)).toBe(1);
    const findings = diagnose(applied, { expectedBlocked: expectedBlockedRoutes(factory) });
    expect(codes(findings)).toEqual(['PROFILE_MISMATCH']);
    expect(findings[0]!.params).toEqual({ profile: '443-only', unexpectedlyOpen: ['mqtt-8883'], required: [] });
    expect(findings[0]!.severity).toBe('warning');
    expect(findings[0]!.evidence).toEqual(['route.mqtt-8883.tcp']);
  });

  it('a route that must pass still fails when it fails; one not probed is REQUIRED_NOT_RUN', () => {
    const results = [...localPasses(), ...route('mqtt-443', { tcp: fail('TCP_REFUSED') })];
    const applied = applySiteProfile(results, factory);
    expect(applied.find((r) => r.id === 'route.mqtt-443.tcp')?.status).toBe('fail');
    const missing = applied.find((r) => r.id === 'profile.route.https-443')!;
    expect(missing).toMatchObject({
      status: 'fail',
      code: 'REQUIRED_NOT_RUN',
      route: null,
      evidence: { profile: '443-only', route: 'https-443' },
    });
    expect(applied.find((r) => r.id === 'profile.route.mqtt-8883')).toBeUndefined();
    const findings = diagnose(applied, { expectedBlocked: expectedBlockedRoutes(factory) });
    expect(codes(findings)).toEqual(['ALL_ROUTES_BLOCKED', 'PORT_BLOCKED', 'PROFILE_MISMATCH']);
  });

  it('required checks: skipped or not run fail the run', () => {
    const profile: SiteProfile = {
      name: 'strict-site',
      routes: { 'mqtt-443': 'pass' },
      checks: ['cert.key-match', 'files.*', 'cloud.certificate'],
    };
    const results = [
      check('files.cert', 'CERT_FILE_OK'),
      check('files.key', 'KEY_FILE_NOT_GIVEN', 'skip'),
      check('cert.key-match', 'INPUT_MISSING', 'skip', {}, { summary: 'no private key file given (--key)' }),
      ...route('mqtt-443'),
    ];
    const applied = applySiteProfile(results, profile);
    expect(applied.find((r) => r.id === 'profile.check.cert.key-match')).toMatchObject({
      status: 'fail',
      code: 'REQUIRED_SKIPPED',
      summary:
        'profile "strict-site" requires cert.key-match to pass, but it was skipped: no private key file given (--key)',
      evidence: { skipped: ['cert.key-match'], reason: 'INPUT_MISSING' },
    });
    // files.* has one passing check: satisfied.
    expect(applied.find((r) => r.id === 'profile.check.files.*')).toBeUndefined();
    expect(applied.find((r) => r.id === 'profile.check.cloud.certificate')).toMatchObject({
      status: 'fail',
      code: 'REQUIRED_NOT_RUN',
    });
    const f = diagnose(applied).find((x) => x.code === 'PROFILE_MISMATCH')!;
    expect(f.severity).toBe('error');
    expect(f.params['required']).toEqual(['profile.check.cert.key-match', 'profile.check.cloud.certificate']);
  });

  it('does not change its input and applying twice changes nothing more', () => {
    const results = [...localPasses(), ...allRoutes({ 'mqtt-8883': { tcp: fail('TCP_TIMEOUT') } })];
    const copy = structuredClone(results);
    const once = applySiteProfile(results, { ...factory, checks: ['cloud.thing'] });
    expect(results).toEqual(copy);
    expect(applySiteProfile(once, { ...factory, checks: ['cloud.thing'] })).toEqual(once);
  });

  it('a DNS failure on a route expected blocked stays a failure (the name does not resolve for any route)', () => {
    const results = route('mqtt-8883', { dns: fail('DNS_NXDOMAIN') });
    const applied = applySiteProfile(results, factory);
    expect(applied.find((r) => r.id === 'route.mqtt-8883.dns')?.status).toBe('fail');
  });
});
