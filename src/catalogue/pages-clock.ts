/** Catalogue pages of the clock codes, decided by src/diagnose/clock.ts (see types.ts). */
import type { CodePage } from './types.js';

/** Pages of CLOCK_LOOKS_UNSET (CLOCK_SKEW's page is in pages-auth.ts). */
export const CLOCK_PAGES: readonly CodePage[] = [
  {
    code: 'CLOCK_LOOKS_UNSET',
    family: 'Clock',
    meaning:
      "This machine's clock reads a date before 2020 (typically 1970): it was never set. A device without a real-time clock boots there until NTP answers, and every certificate then looks not yet valid.",
    decides:
      'cert.validity records the local time and flags a clock before 2020 (code CLOCK_LOOKS_UNSET, or clockLooksUnset in its evidence). The finding comes first and cites what the clock explains: the device certificate not yet valid by this clock, route tls cells TLS_SERVER_CERT_NOT_YET_VALID / TLS_SERVER_CERT_EXPIRED, and ca.verifies-endpoint CA_CHAIN_NOT_TIME_VALID. While it stands, CERT_NOT_YET_VALID (judged by this clock), SERVER_CERT_OUT_OF_DATE and an interception verdict resting on dates are not made.',
    lookAlikes: [
      {
        code: 'CERT_NOT_YET_VALID',
        tell: "only when the clock is right (or the server's clock agrees) is the certificate itself too young",
      },
      {
        code: 'TLS_INTERCEPTED',
        tell: "an interceptor presents a chain that is not Amazon's whatever the date; an unset clock only makes the right chain's dates fail",
      },
      { code: 'CLOCK_SKEW', tell: 'a clock that is set but wrong by minutes or days; this one was never set at all' },
    ],
    remedy: [
      'Set the clock before connecting: enable NTP or SNTP on the device and allow UDP 123 to the time servers.',
      'On devices without a real-time clock, wait until the time is set before opening the TLS connection.',
      'Run iot-doctor again once the clock is right: only then are certificate dates worth judging.',
    ],
    confirm: ['date -u', 'timedatectl status  # on systemd machines: "System clock synchronized: yes"'],
  },
];
