/**
 * The field-path flags of `check`: the proxy (`--proxy`, or HTTPS_PROXY / ALL_PROXY minus NO_PROXY as curl reads
 * them, field-notes §1.4; `--noproxy LIST`, `--no-proxy`, `--proxy-only`), the address family (`-4`/`-6`), and the device's TLS stack
 * (`--tls-version`, `--ciphers`, `--max-record`, `--no-sni`, `--no-alpn`). Bad values are a UsageError (one line,
 * never quoting a proxy password).
 */
import { UsageError } from './errors.js';
import { parseDeviceTls } from './probes/device-tls.js';
import { chooseProxy } from './probes/proxy-config.js';
import type { Target } from './target.js';

/** The field-path flags as yargs gives them. */
export interface FieldArgs {
  proxy?: string;
  'no-proxy'?: boolean;
  noproxy?: string;
  'proxy-only'?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  'tls-version'?: string;
  ciphers?: string;
  'max-record'?: number;
  sni?: boolean;
  alpn?: boolean;
}

/** The Target fields of the field-path flags, for `endpoint`; reads the proxy variables of `env`. */
export function fieldFields(
  args: FieldArgs,
  endpoint: string,
  env: NodeJS.ProcessEnv = process.env,
): Pick<Target, 'proxy' | 'proxyNote' | 'proxyReason' | 'proxyOnly' | 'family' | 'deviceTls'> {
  if (args.ipv4 && args.ipv6) {
    throw new UsageError('-4 and -6 exclude each other: give one, or neither to probe every family DNS returns');
  }
  const flags = {
    ...(args.proxy !== undefined ? { proxy: args.proxy } : {}),
    ...(args['no-proxy'] ? { noProxy: true } : {}),
    ...(args.noproxy !== undefined ? { noProxyList: args.noproxy } : {}),
  };
  const choice = chooseProxy(endpoint, flags, env);
  if (args['proxy-only'] && !choice.proxy) {
    const why = choice.note ? ` (${choice.note})` : '';
    throw new UsageError(`--proxy-only needs a proxy: --proxy URL, or HTTPS_PROXY / ALL_PROXY${why}`);
  }
  return {
    ...(choice.proxy ? { proxy: choice.proxy } : {}),
    ...(choice.note ? { proxyNote: choice.note } : {}),
    proxyReason: choice.reason,
    proxyOnly: args['proxy-only'] ?? false,
    ...(args.ipv4 ? { family: 4 as const } : args.ipv6 ? { family: 6 as const } : {}),
    deviceTls: parseDeviceTls({
      ...(args['tls-version'] !== undefined ? { 'tls-version': args['tls-version'] } : {}),
      ...(args.ciphers !== undefined ? { ciphers: args.ciphers } : {}),
      ...(args['max-record'] !== undefined ? { 'max-record': args['max-record'] } : {}),
      sni: args.sni ?? true,
      alpn: args.alpn ?? true,
    }),
  };
}
