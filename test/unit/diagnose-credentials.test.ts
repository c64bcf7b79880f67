import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { check, codes, fail, localPasses, only, route } from './diagnose-fixtures.js';

const without = (...ids: string[]) => localPasses().filter((r) => !ids.includes(r.id));

describe('KEY_CERT_MISMATCH', () => {
  it('the key does not belong to the certificate; the handshake fails on every route', () => {
    const results = [
      ...without('cert.key-match'),
      check(
        'cert.key-match',
        'KEY_CERT_MISMATCH',
        'fail',
        { certKeyType: 'RSA 2048', keyKeyType: 'EC P-256' },
        { reproduce: 'diff <(openssl x509 -noout -pubkey -in cert.pem) <(openssl pkey -pubout -in key.pem)' },
      ),
      ...route('mqtt-8883', { tls: fail('TLS_ERROR', { error: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' }) }),
      ...route('mqtt-443', { tls: fail('TLS_ERROR', { error: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' }) }),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'KEY_CERT_MISMATCH');
    expect(findings[0]).toBe(f);
    expect(f.severity).toBe('critical');
    expect(f.confidence).toBe('certain');
    expect(f.params).toEqual({ certKeyType: 'RSA 2048', keyKeyType: 'EC P-256' });
    expect(f.evidence).toEqual(['cert.key-match', 'route.mqtt-8883.tls', 'route.mqtt-443.tls']);
    expect(f.remediation.join('\n')).toContain('diff <(openssl x509');
    expect(codes(findings)).toEqual(['KEY_CERT_MISMATCH']);
  });
});

describe('CERT_EXPIRED', () => {
  it('expired by the local clock and the server clock', () => {
    const results = [
      ...without('cert.validity'),
      check('cert.validity', 'CERT_EXPIRED', 'fail', {
        notBefore: '2024-01-01T00:00:00Z',
        notAfter: '2025-01-01T00:00:00Z',
        now: '2026-06-01T00:00:00Z',
      }),
      check('clock.cert-validity', 'CERT_EXPIRED_BY_SERVER_CLOCK', 'fail', {
        notAfter: '2025-01-01T00:00:00Z',
        serverDate: '2026-06-01T00:00:03Z',
      }),
      ...route('mqtt-8883', { 'client-auth': fail('CLIENT_CERT_REJECTED', { alert: 'certificate_expired' }) }),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'CERT_EXPIRED');
    expect(f.confidence).toBe('certain');
    expect(f.params).toEqual({ notAfter: '2025-01-01T00:00:00Z', judgedBy: 'server clock', certificate: 'device' });
    expect(f.evidence).toEqual(['cert.validity', 'clock.cert-validity', 'clock.skew', 'route.mqtt-8883.client-auth']);
    expect(codes(findings)).toEqual(['CERT_EXPIRED']);
  });

  it('expired by the local clock, server clock unknown, clock not compared: likely', () => {
    const results = [
      ...without('cert.validity', 'clock.skew'),
      check('cert.validity', 'CERT_EXPIRED', 'fail', { notAfter: '2025-01-01T00:00:00Z' }),
      check('clock.skew', 'CLOCK_UNKNOWN', 'skip'),
    ];
    const f = only(diagnose(results), 'CERT_EXPIRED');
    expect(f.confidence).toBe('likely');
    expect(f.params['judgedBy']).toBe('local clock');
    expect(f.evidence).toEqual(['cert.validity']);
  });

  it('an expired chain certificate in the file', () => {
    const results = [
      ...without('cert.validity'),
      check('cert.validity', 'CERT_CHAIN_EXPIRED', 'fail', {
        notAfter: '2027-01-01T00:00:00Z',
        chainSubject: 'CN=Old Intermediate',
      }),
    ];
    const f = only(diagnose(results), 'CERT_EXPIRED');
    expect(f.params['certificate']).toBe('chain');
    expect(f.title).toMatch(/Old Intermediate/);
  });

  it('not when the server clock says the certificate is valid: the local clock is wrong', () => {
    const results = [
      ...without('cert.validity', 'clock.skew'),
      check('cert.validity', 'CERT_EXPIRED', 'fail', { notAfter: '2025-01-01T00:00:00Z', now: '2031-01-01T00:00:00Z' }),
      check('clock.cert-validity', 'CERT_VALID_BY_SERVER_CLOCK'),
      check('clock.skew', 'CLOCK_SKEW', 'warn', {
        offsetSeconds: 157_000_000,
        serverDate: 'Mon, 01 Jun 2026 00:00:00 GMT',
      }),
    ];
    const findings = diagnose(results);
    expect(codes(findings)).toEqual(['CLOCK_SKEW']);
  });
});

describe('CERT_NOT_YET_VALID', () => {
  it('not valid yet by the local clock and the server clock', () => {
    const results = [
      ...without('cert.validity'),
      check('cert.validity', 'CERT_NOT_YET_VALID', 'fail', { notBefore: '2030-01-01T00:00:00Z' }),
      check('clock.cert-validity', 'CERT_NOT_YET_VALID_BY_SERVER_CLOCK', 'fail', { notBefore: '2030-01-01T00:00:00Z' }),
    ];
    const f = only(diagnose(results), 'CERT_NOT_YET_VALID');
    expect(f.confidence).toBe('certain');
    expect(f.params).toEqual({ notBefore: '2030-01-01T00:00:00Z', judgedBy: 'server clock', certificate: 'device' });
    expect(f.evidence).toEqual(['cert.validity', 'clock.cert-validity', 'clock.skew']);
  });
});

describe('CERT_FILES_SWAPPED', () => {
  it('certificate and key files swapped', () => {
    const results = [
      check(
        'files.cert',
        'CERT_FILE_HOLDS_PRIVATE_KEY',
        'fail',
        {},
        { summary: 'this file holds a private key, expected a CERTIFICATE: the cert and key files are swapped' },
      ),
      check(
        'files.key',
        'KEY_FILE_HOLDS_CERTIFICATE',
        'fail',
        {},
        { summary: 'this file holds a CERTIFICATE, expected a private key: the cert and key files are swapped' },
      ),
      check('files.ca', 'CA_FILE_OK'),
      check('cert.key-match', 'BLOCKED', 'skip'),
      ...route('mqtt-8883', { 'client-auth': { status: 'warn', code: 'NO_CLIENT_CREDENTIALS' } }),
    ];
    const findings = diagnose(results);
    const f = only(findings, 'CERT_FILES_SWAPPED');
    expect(findings[0]).toBe(f);
    expect(f.confidence).toBe('certain');
    expect(f.params).toEqual({ pairs: [['cert', 'key']] });
    expect(f.evidence).toEqual(['files.cert', 'files.key', 'route.mqtt-8883.client-auth']);
    expect(codes(findings)).toEqual(['CERT_FILES_SWAPPED']);
  });

  it('an Amazon root given as the device certificate (secondary result id of files.cert)', () => {
    const results = [
      check('files.cert', 'CERT_FILE_DER', 'warn'),
      check(
        'files.cert:CERT_FILE_HOLDS_CA',
        'CERT_FILE_HOLDS_CA',
        'fail',
        {},
        {
          summary:
            'this file holds a CA certificate (Amazon Root CA 1), expected the device certificate: are --cert and --ca swapped?',
        },
      ),
    ];
    const f = only(diagnose(results), 'CERT_FILES_SWAPPED');
    expect(f.confidence).toBe('likely');
    expect(f.params).toEqual({ pairs: [['cert', 'ca']] });
    expect(f.evidence).toEqual(['files.cert:CERT_FILE_HOLDS_CA']);
  });
});

describe('CERT_FILES_SWAPPED is not a wrong CA file', () => {
  it('the device certificate given as --ca (and as --cert) is WRONG_CA_FILE, not a swap', () => {
    const results = [
      ...without('ca.contents', 'ca.verifies-endpoint'),
      check(
        'ca.contents',
        'CA_NO_CA_CERT',
        'fail',
        { path: 'device.pem.crt' },
        { summary: 'the CA file holds the device certificate, not a CA certificate: are --cert and --ca swapped?' },
      ),
      check('ca.verifies-endpoint', 'CA_DOES_NOT_VERIFY_CHAIN', 'fail', { caFile: 'device.pem.crt' }),
      ...route('mqtt-8883', {
        tls: fail('TLS_CHAIN_UNTRUSTED', {
          chain: [{ subject: 'CN=x', issuer: 'CN=Lab Server CA 1A', fingerprint256: 'AA' }],
        }),
      }),
    ];
    const findings = diagnose(results);
    expect(codes(findings)).toEqual(['WRONG_CA_FILE']);
    expect(findings[0]!.explanation).toMatch(/holds no CA certificate at all/);
    expect(findings[0]!.evidence).toEqual(['ca.verifies-endpoint', 'ca.contents', 'route.mqtt-8883.tls']);
  });
});

describe('CREDENTIALS_UNUSABLE', () => {
  it('an encrypted key without its passphrase: one finding that also explains the routes stopping after TLS', () => {
    const results = [
      check('files.cert', 'CERT_FILE_OK'),
      check(
        'files.key',
        'KEY_ENCRYPTED_NO_PASSPHRASE',
        'fail',
        {},
        { hint: 'pass the passphrase with --key-passphrase' },
      ),
      ...route('mqtt-8883', { 'client-auth': { status: 'warn', code: 'NO_CLIENT_CREDENTIALS' } }),
      ...route('https-8443', { 'client-auth': { status: 'warn', code: 'NO_CLIENT_CREDENTIALS' } }),
    ];
    const findings = diagnose(results);
    expect(codes(findings)).toEqual(['CREDENTIALS_UNUSABLE']);
    const f = findings[0]!;
    expect(f.params).toEqual({ files: ['key'], codes: ['KEY_ENCRYPTED_NO_PASSPHRASE'] });
    expect(f.evidence).toEqual(['files.key', 'route.mqtt-8883.client-auth', 'route.https-8443.client-auth']);
    expect(f.remediation[0]).toBe('pass the passphrase with --key-passphrase');
  });
});
