/**
 * The `check` options of the field paths (issue 12): the proxy (`--proxy`, `--no-proxy`, `--proxy-only`), the
 * address family (`-4`/`--ipv4`, `-6`/`--ipv6`, as curl spells them) and the device's TLS stack (`--tls-version`,
 * `--ciphers`, `--max-record`, `--no-sni`, `--no-alpn`). The parser (src/cli-args.ts) reads `-4`/`-6` as flags
 * wherever they stand, also right after an array option such as `--format json`.
 */
import type { OptionSpec } from './cli-args.js';

/** Proxy, address-family and device-TLS options of `check` (src/field-args.ts turns them into Target fields). */
export const FIELD_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'proxy',
    type: 'string',
    emptyOk: true,
    describe:
      'proxy URL: http://[user:pass@]host:port (HTTP CONNECT), socks5:// or socks5h://; probes the direct path and ' +
      'the path through it (default: https_proxy, HTTPS_PROXY, then all_proxy, ALL_PROXY; NO_PROXY applies, as curl)',
  },
  {
    name: 'noproxy',
    type: 'string',
    emptyOk: true,
    describe:
      'hosts that bypass the proxy, as curl\'s --noproxy: replaces NO_PROXY, applies to --proxy too; "" keeps the proxy',
  },
  {
    name: 'no-proxy',
    type: 'boolean',
    describe: 'ignore https_proxy / HTTPS_PROXY / all_proxy / ALL_PROXY / NO_PROXY',
  },
  { name: 'proxy-only', type: 'boolean', default: false, describe: 'only the routes through the proxy' },
  {
    name: 'ipv4',
    alias: '4',
    type: 'boolean',
    describe: 'only IPv4 (default: the first address of each family DNS returns)',
  },
  { name: 'ipv6', alias: '6', type: 'boolean', describe: 'only IPv6' },
  {
    name: 'tls-version',
    type: 'string',
    choices: ['1.2', '1.3'],
    describe: 'the only TLS version the device speaks',
  },
  { name: 'ciphers', type: 'string', describe: 'TLS 1.2 suites the device offers (OpenSSL names, colon-separated)' },
  {
    name: 'max-record',
    type: 'number',
    describe: "the device's TLS input buffer, bytes: a larger record or Certificate message fails the tls stage",
  },
  { name: 'sni', type: 'boolean', default: true, describe: 'send SNI (--no-sni: the device sends no server name)' },
  { name: 'alpn', type: 'boolean', default: true, describe: 'offer ALPN on 443 (--no-alpn: the device offers none)' },
];
