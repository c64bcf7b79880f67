/** Site-profile causes: the run does not match what the site profile expects. */
import type { Finding } from '../model/index.js';
import { finding, ids, list, str, uniq, type Facts, isCode } from './facts.js';

/** PROFILE_MISMATCH: a route expected blocked connected, or something the profile requires did not run or was skipped. */
export function profileMismatch(facts: Facts): Finding[] {
  const open = facts.results.filter((r) => isCode(r, 'UNEXPECTEDLY_OPEN'));
  const missing = facts.results.filter((r) => isCode(r, 'REQUIRED_NOT_RUN') || isCode(r, 'REQUIRED_SKIPPED'));
  if (open.length === 0 && missing.length === 0) return [];
  const profile = str(open[0]?.evidence['profile']) ?? str(missing[0]?.evidence['profile']) ?? 'the site profile';
  const openRoutes = uniq(open.map((r) => r.route).filter((r): r is NonNullable<typeof r> => !!r));
  const parts: string[] = [];
  if (openRoutes.length > 0)
    parts.push(
      `${list(openRoutes)} ${openRoutes.length === 1 ? 'is' : 'are'} expected to be blocked here, yet connected`,
    );
  if (missing.length > 0)
    parts.push(`${missing.map((r) => r.summary.replace(/^profile "[^"]*" requires /, '')).join('; ')}`);
  return [
    finding('PROFILE_MISMATCH', {
      severity: missing.length > 0 ? 'error' : 'warning',
      confidence: 'certain',
      title: `The run does not match the site profile "${profile}"`,
      explanation: `The profile "${profile}" says what this site should look like, and the run differs: ${parts.join('; and ')}. Either the site changed (a firewall rule was added or removed) or the profile, or the run's flags, need updating.`,
      remediation: [
        ...(openRoutes.length > 0
          ? [
              'Ask the network administrator whether the firewall rule that blocks these ports was removed; if the port is open on purpose now, change the profile to "pass" or "any".',
            ]
          : []),
        ...uniq(missing.map((r) => r.hint).filter((h): h is string => !!h)),
      ],
      params: { profile, unexpectedlyOpen: openRoutes, required: missing.map((r) => r.id) },
      evidence: ids([...open, ...missing]),
    }),
  ];
}
