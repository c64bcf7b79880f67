/** Catalogue pages of the summary and site-profile codes (src/diagnose/index.ts, profile.ts; see types.ts). */
import type { CodePage } from './types.js';

/** Pages of PROFILE_MISMATCH, UNEXPLAINED_FAILURE, OTHER_WARNINGS and HEALTHY. */
export const GENERAL_PAGES: readonly CodePage[] = [
  {
    code: 'PROFILE_MISMATCH',
    family: 'Site profile',
    meaning:
      'The run differs from what the site profile (--site-profile) says this network looks like: a route the profile expects blocked connected, or a check it requires did not run.',
    decides:
      'Route cells marked UNEXPECTEDLY_OPEN, and results REQUIRED_NOT_RUN / REQUIRED_SKIPPED that the site profile adds. Routes blocked the way the profile expects are not findings at all.',
    lookAlikes: [
      { code: 'PORT_BLOCKED', tell: 'a blocked port the profile does not expect is PORT_BLOCKED, not this' },
    ],
    remedy: [
      'Ask whether the firewall changed; if the port is open on purpose now, change the profile entry to "pass" or "any".',
      'For a required check that did not run, give the flags it needs (the finding names them).',
    ],
    confirm: ['iot-doctor check … --site-profile <profile> --format list'],
  },
  {
    code: 'UNEXPLAINED_FAILURE',
    family: 'Summary',
    meaning:
      'Some results failed (or could not complete) and no rule names their cause. The report still shows each failing result with its hint and a command to reproduce it by hand.',
    decides:
      'Every failing or erroring result that counts for the verdict and that no other finding cites. A certain root cause cites all the failures it explains, so this never repeats them.',
    lookAlikes: [
      {
        code: 'AUTH_REJECTED_UNEXPLAINED',
        tell: 'a rejection after the handshake has its own finding with candidate causes',
      },
    ],
    remedy: [
      'Follow the hints the finding lists, and run the reproduce commands by hand from the same network.',
      'A result with status error is a problem of the tool or this machine, not a verdict about the network: run again, or report it.',
    ],
    confirm: ['iot-doctor check … --format list  # one line per check, with its code'],
  },
  {
    code: 'OTHER_WARNINGS',
    family: 'Summary',
    meaning:
      'Warnings that do not stop the device today and that no other finding covers: a certificate that expires soon, a key file others can read, a CA file without the Amazon roots.',
    decides: 'Every result with status warn that counts for the verdict and that no other finding cites.',
    lookAlikes: [{ code: 'HEALTHY', tell: 'HEALTHY needs no warning at all' }],
    remedy: ['Follow the hint of each warning the finding lists (the first applies to the first warning).'],
    confirm: ['iot-doctor check … --format list'],
  },
  {
    code: 'HEALTHY',
    family: 'Summary',
    meaning:
      'Every selected route connected (and made its round trip when asked) and every local and cloud check passed: nothing failed, warned or errored.',
    decides:
      'No result that counts failed, warned or errored, and at least one passed; routes the site profile expects blocked, and skipped checks, are named but do not count.',
    lookAlikes: [{ code: 'OTHER_WARNINGS', tell: 'a warning anywhere makes the verdict OTHER_WARNINGS instead' }],
    remedy: ['Nothing to fix. Keep the report as the baseline to compare later runs with.'],
    confirm: ['iot-doctor check … --format list'],
  },
];
