/**
 * Local credential causes, decided offline from the files: key and certificate do not belong together, the
 * certificate is out of its validity, or the files were given in the wrong slots.
 */
import type { CheckResult, Finding } from '../model/index.js';
import { credentialSymptoms, finding, ids, routeSeverity, str, type Facts, isCode } from './facts.js';
import { clockFacts, clockWrong } from './clock.js';
import type { ResultCode } from './codes.js';

/** KEY_CERT_MISMATCH: the private key is not the one the certificate was issued for. */
export function keyCertMismatch(facts: Facts): Finding[] {
  const r = facts.is('cert.key-match', 'KEY_CERT_MISMATCH');
  if (!r) return [];
  const symptoms = [...credentialSymptoms(facts), ...unusableCredentialCells(facts)];
  return [
    finding('KEY_CERT_MISMATCH', {
      severity: routeSeverity(facts),
      confidence: 'certain',
      title: 'The private key does not belong to the device certificate',
      explanation:
        `A TLS client proves it owns its certificate by signing with the matching private key. The key file holds a different key (certificate: ${str(r.evidence['certKeyType']) ?? 'unknown'}, key: ${str(r.evidence['keyKeyType']) ?? 'unknown'}), so the client certificate can never be accepted${symptoms.length > 0 ? ', and the routes fail at the handshake' : ''}. ${r.hint ?? ''}`.trim(),
      remediation: [
        'Find the private key that was generated together with this certificate (or its CSR) and give it with --key.',
        'If that key is lost, create a new certificate (aws iot create-keys-and-certificate, or a CSR), register and activate it, and attach the same policy and thing.',
        ...(r.reproduce ? [`Compare by hand: ${r.reproduce}`] : []),
      ],
      params: { certKeyType: r.evidence['certKeyType'] ?? null, keyKeyType: r.evidence['keyKeyType'] ?? null },
      evidence: ids([r, ...symptoms]),
    }),
  ];
}

type Validity = 'expired' | 'not-yet-valid';

function validityFinding(facts: Facts, which: Validity): Finding[] {
  const localCodes: ResultCode[] =
    which === 'expired' ? ['CERT_EXPIRED', 'CERT_CHAIN_EXPIRED'] : ['CERT_NOT_YET_VALID'];
  const serverCode = which === 'expired' ? 'CERT_EXPIRED_BY_SERVER_CLOCK' : 'CERT_NOT_YET_VALID_BY_SERVER_CLOCK';
  const local = facts.is('cert.validity', ...localCodes);
  const server = facts.get('clock.cert-validity');
  const byServer = isCode(server, serverCode) ? server : undefined;
  // The certificate is fine by the server's clock: the local clock is what is wrong (CLOCK_SKEW says so).
  if (!byServer && (!local || isCode(server, 'CERT_VALID_BY_SERVER_CLOCK'))) return [];
  // Judged by this machine's clock only, and that clock looks wrong: CLOCK_LOOKS_UNSET / CLOCK_SKEW explain it.
  if (!byServer && clockWrong(clockFacts(facts))) return [];
  const clockOk = facts.is('clock.skew', 'CLOCK_OK');
  const base: CheckResult = (byServer ?? local)!;
  const code = which === 'expired' ? 'CERT_EXPIRED' : 'CERT_NOT_YET_VALID';
  const chain = isCode(local, 'CERT_CHAIN_EXPIRED');
  const date =
    str(base.evidence[which === 'expired' ? 'notAfter' : 'notBefore']) ??
    str(local?.evidence[which === 'expired' ? 'notAfter' : 'notBefore']);
  const judgedBy = byServer ? 'server clock' : 'local clock';
  const symptoms = credentialSymptoms(facts);
  const what = chain
    ? `A chain certificate in the certificate file (${str(local!.evidence['chainSubject']) ?? 'an intermediate'})`
    : 'The device certificate';
  return [
    finding(code, {
      severity: routeSeverity(facts),
      confidence: byServer || clockOk ? 'certain' : 'likely',
      title:
        which === 'expired'
          ? `${what} has expired${date ? ` (${date})` : ''}`
          : `${what} is not valid yet${date ? ` (until ${date})` : ''}`,
      explanation: `${what} is ${which === 'expired' ? `past its end date${date ? ` ${date}` : ''}` : `before its start date${date ? ` ${date}` : ''}`}, judged by the ${judgedBy}${byServer && local ? " and by this machine's clock alike" : ''}. AWS IoT refuses a client certificate outside its validity during the TLS handshake${symptoms.length > 0 ? ', which is what the routes show' : ''}.${!byServer && !clockOk ? " The server's clock was not compared, so a wrong local clock is not ruled out." : ''}`,
      remediation:
        which === 'expired'
          ? [
              'Issue a new device certificate, register and activate it in AWS IoT, attach the same policy and thing, and install it on the device.',
              'Plan rotation before expiry next time (iot-doctor warns with --warn-days).',
              ...(base.reproduce ? [`Check by hand: ${base.reproduce}`] : []),
            ]
          : [
              'If the device clock is behind, set it (NTP) and try again.',
              'Otherwise the certificate was issued with a future start date: re-issue it with a start date in the past.',
              ...(base.reproduce ? [`Check by hand: ${base.reproduce}`] : []),
            ],
      params: {
        [which === 'expired' ? 'notAfter' : 'notBefore']: date ?? null,
        judgedBy,
        certificate: chain ? 'chain' : 'device',
      },
      evidence: ids([local, byServer, clockOk, ...symptoms]),
    }),
  ];
}

/** CERT_EXPIRED: the device certificate (or a chain certificate) is past notAfter, by the server's or this clock. */
export function certExpired(facts: Facts): Finding[] {
  return validityFinding(facts, 'expired');
}

/** CERT_NOT_YET_VALID: the device certificate is before notBefore, by the server's or this machine's clock. */
export function certNotYetValid(facts: Facts): Finding[] {
  return validityFinding(facts, 'not-yet-valid');
}

/** CERT_FILES_SWAPPED: the certificate, key and CA files were given in each other's places. */
export function certFilesSwapped(facts: Facts): Finding[] {
  const certHoldsKey = facts.find('files.cert', ['CERT_FILE_HOLDS_PRIVATE_KEY']);
  const keyHoldsCert = facts.find('files.key', ['KEY_FILE_HOLDS_CERTIFICATE']);
  const certHoldsCa = facts.find('files.cert', ['CERT_FILE_HOLDS_CA']);
  const caHoldsKey = facts.find('files.ca', ['CA_FILE_HOLDS_PRIVATE_KEY']);
  const caHoldsDevice = facts.is('ca.contents', 'CA_NO_CA_CERT');
  const caHoldsDeviceCert = caHoldsDevice && /swapped/.test(caHoldsDevice.summary) ? caHoldsDevice : undefined;

  const pairs: { files: [string, string]; sure: boolean; results: CheckResult[] }[] = [];
  if (certHoldsKey || keyHoldsCert) {
    pairs.push({
      files: ['cert', 'key'],
      sure: !!(certHoldsKey && keyHoldsCert),
      results: [certHoldsKey, keyHoldsCert].filter((r): r is CheckResult => !!r),
    });
  }
  // The device certificate in the CA slot alone is a wrong CA file (WRONG_CA_FILE); a swap needs a CA in the cert slot.
  if (certHoldsCa) {
    pairs.push({
      files: ['cert', 'ca'],
      sure: !!caHoldsDeviceCert,
      results: [certHoldsCa, caHoldsDeviceCert].filter((r): r is CheckResult => !!r),
    });
  }
  if (caHoldsKey && caHoldsKey.status === 'fail') {
    pairs.push({ files: ['key', 'ca'], sure: false, results: [caHoldsKey] });
  }
  if (pairs.length === 0) return [];
  const flag = (f: string): string => `--${f}`;
  const text = pairs.map((p) => `${flag(p.files[0])} and ${flag(p.files[1])}`);
  return [
    finding('CERT_FILES_SWAPPED', {
      severity: 'critical',
      confidence: pairs.every((p) => p.sure) ? 'certain' : 'likely',
      title: `The credential files are in the wrong places (${text.join('; ')})`,
      explanation: `Each file holds what another one should: ${pairs.flatMap((p) => p.results.map((r) => r.summary)).join('; ')}. The device needs its own certificate as the client certificate, the matching private key as the key, and the Amazon root as the CA that verifies the server; with the files mixed up, no connection can authenticate.`,
      remediation: [
        `Give the files in their right slots: ${text.map((t) => `swap ${t}`).join(', ')}.`,
        'Check each file by hand: grep -- "-----BEGIN" <file> names CERTIFICATE for --cert and --ca, a private key (the line ends in KEY) for --key.',
      ],
      params: { pairs: pairs.map((p) => p.files) },
      evidence: ids([...pairs.flatMap((p) => p.results), ...unusableCredentialCells(facts)]),
    }),
  ];
}

/** Route cells that could not use the client certificate and key: consequences of a credential-file problem. */
function unusableCredentialCells(facts: Facts): CheckResult[] {
  return facts.routeCells(['NO_CLIENT_CREDENTIALS', 'TLS_CLIENT_CREDENTIALS_UNUSABLE']);
}

const SWAP_CODES: readonly ResultCode[] = [
  'CERT_FILE_HOLDS_PRIVATE_KEY',
  'KEY_FILE_HOLDS_CERTIFICATE',
  'CERT_FILE_HOLDS_CA',
  'CA_FILE_HOLDS_PRIVATE_KEY',
];

/**
 * CREDENTIALS_UNUSABLE: a credential file that cannot be used as given (encrypted key without its passphrase, junk,
 * an unreadable PKCS#12 ...), when it is not simply in the wrong slot (CERT_FILES_SWAPPED).
 */
export function credentialsUnusable(facts: Facts): Finding[] {
  const problems = facts.results.filter(
    (r) => /^files\.(cert|key|ca)(:|$)/.test(r.id) && r.status === 'fail' && !isCode(r, ...SWAP_CODES),
  );
  if (problems.length === 0) return [];
  const blocked = unusableCredentialCells(facts);
  const files = [...new Set(problems.map((r) => r.id.slice('files.'.length).split(':')[0]!))];
  return [
    finding('CREDENTIALS_UNUSABLE', {
      severity: blocked.length > 0 ? routeSeverity(facts) : 'error',
      confidence: 'certain',
      title: `The ${files.map((f) => `--${f}`).join(' and ')} ${files.length === 1 ? 'file cannot' : 'files cannot'} be used as given`,
      explanation: `${problems.map((r) => `${r.title}: ${r.summary}`).join('; ')}.${blocked.length > 0 ? ' Without a usable certificate and key the device cannot authenticate, so the routes stop after TLS.' : ''}`,
      remediation: [
        ...new Set(problems.map((r) => r.hint).filter((h): h is string => !!h)),
        ...problems
          .filter((r) => r.reproduce)
          .slice(0, 2)
          .map((r) => `Check by hand: ${r.reproduce}`),
      ],
      params: { files, codes: problems.map((r) => r.code) },
      evidence: ids([...problems, ...blocked]),
    }),
  ];
}
