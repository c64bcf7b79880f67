/**
 * The TLS surface of AWS IoT's default security policy, `IoTSecurityPolicy_TLS13_1_2_2022_10` (facts §2.1, §2.5;
 * field notes §3.1, column B): TLS 1.2 and 1.3, the TLS 1.3 AES-GCM and CHACHA20 suites, and in TLS 1.2 the ECDHE-RSA,
 * ECDHE-ECDSA and static-RSA AES suites (GCM and CBC) — nothing else (no CHACHA20, ARIA, CCM or DHE in TLS 1.2) —
 * and the choice between the RSA and the ECC server chain (facts §2.3).
 */
import type { ClientHelloInfo } from './client-hello.js';

/** TLS 1.3 suites of policy B, OpenSSL/IANA names (field notes §3.1). */
export const DEFAULT_POLICY_TLS13_SUITES = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
];

/** TLS 1.2 suites of policy B with an ECDSA server key, OpenSSL name → IANA code point. */
const ECDSA_SUITES: Record<string, number> = {
  'ECDHE-ECDSA-AES128-GCM-SHA256': 0xc02b,
  'ECDHE-ECDSA-AES256-GCM-SHA384': 0xc02c,
  'ECDHE-ECDSA-AES128-SHA256': 0xc023,
  'ECDHE-ECDSA-AES256-SHA384': 0xc024,
  'ECDHE-ECDSA-AES128-SHA': 0xc009,
  'ECDHE-ECDSA-AES256-SHA': 0xc00a,
};

/** TLS 1.2 suites of policy B with an RSA server key (ECDHE-RSA and static RSA), OpenSSL name → code point. */
const RSA_SUITES: Record<string, number> = {
  'ECDHE-RSA-AES128-GCM-SHA256': 0xc02f,
  'ECDHE-RSA-AES256-GCM-SHA384': 0xc030,
  'ECDHE-RSA-AES128-SHA256': 0xc027,
  'ECDHE-RSA-AES256-SHA384': 0xc028,
  'ECDHE-RSA-AES128-SHA': 0xc013,
  'ECDHE-RSA-AES256-SHA': 0xc014,
  'AES128-GCM-SHA256': 0x009c,
  'AES256-GCM-SHA384': 0x009d,
  'AES128-SHA256': 0x003c,
  'AES256-SHA256': 0x003d,
  'AES128-SHA': 0x002f,
  'AES256-SHA': 0x0035,
};

/** The TLS 1.2 suites of policy B (OpenSSL names), ECDSA ones first. */
export const DEFAULT_POLICY_TLS12_SUITES = [...Object.keys(ECDSA_SUITES), ...Object.keys(RSA_SUITES)];

/** Node's `ciphers` option for policy B: the TLS 1.3 suites then the TLS 1.2 ones, colon-separated. */
export const DEFAULT_POLICY_CIPHERS = [...DEFAULT_POLICY_TLS13_SUITES, ...DEFAULT_POLICY_TLS12_SUITES].join(':');

const TLS13 = 0x0304;
const ECDSA_CODES = new Set(Object.values(ECDSA_SUITES));
const RSA_CODES = new Set(Object.values(RSA_SUITES));

/**
 * Which server chain answers this ClientHello: AWS serves the RSA or the ECC chain "depending on negotiated cipher
 * suite" (facts §2.3). In TLS 1.2 the client's first-preferred suite of the policy decides (ECDHE-ECDSA → ECC, any
 * other → RSA). A client that offers TLS 1.3 gets the RSA chain: TLS 1.3 suites name no key type, and the chains
 * captured from AWS with current clients are RSA (field notes §3.3); which chain AWS picks there is unconfirmed.
 */
export function serverKeyFor(hello: ClientHelloInfo): 'rsa' | 'ec' {
  if (hello.supportedVersions.includes(TLS13)) return 'rsa';
  for (const suite of hello.cipherSuites) {
    if (ECDSA_CODES.has(suite)) return 'ec';
    if (RSA_CODES.has(suite)) return 'rsa';
  }
  return 'rsa';
}
