import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  chooseProxy,
  curlProxyArgs,
  describeProxy,
  noProxyMatch,
  parseProxyUrl,
  redactUrlText,
} from '../../src/probes/proxy-config.js';
import { classifySocksError, connectRequest, parseProxyReply } from '../../src/probes/proxy-connect.js';

const EP = 'abc123-ats.iot.eu-west-1.amazonaws.com';
const SECRET = 'Pr0xy-S3cret!';

describe('proxy URL', () => {
  it('parses http, socks5 and socks5h with percent-encoded credentials; no scheme means http; default port 1080', () => {
    expect(parseProxyUrl(`http://alice:${encodeURIComponent(SECRET)}@proxy.example:3128`)).toEqual({
      kind: 'http',
      host: 'proxy.example',
      port: 3128,
      user: 'alice',
      password: SECRET,
      source: '--proxy',
    });
    expect(parseProxyUrl('socks5h://[2001:db8::5]:1080', 'ALL_PROXY')).toMatchObject({
      kind: 'socks5h',
      host: '2001:db8::5',
      port: 1080,
      source: 'ALL_PROXY',
    });
    expect(parseProxyUrl('SOCKS5://10.0.0.1')).toMatchObject({ kind: 'socks5', port: 1080 });
    expect(parseProxyUrl('proxy.example')).toMatchObject({ kind: 'http', host: 'proxy.example', port: 1080 });
  });

  it('refuses other schemes, paths and bad ports with one line that never quotes the password', () => {
    for (const bad of [
      'https://p:443',
      'socks4://p:1080',
      `http://u:${SECRET}@p:3128/path`,
      `http://u:${SECRET}@p:99999`,
      'http://:3128',
    ]) {
      let err: unknown;
      try {
        parseProxyUrl(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(UsageError);
      expect((err as Error).message).not.toContain(SECRET);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('describes and builds curl arguments without the password', () => {
    const proxy = parseProxyUrl(`http://alice:${SECRET}@proxy.example:3128`);
    expect(describeProxy(proxy)).toBe('http://alice:****@proxy.example:3128');
    expect(curlProxyArgs(proxy)).toEqual(['--proxy', 'http://proxy.example:3128', '--proxy-user', 'alice']);
    expect(describeProxy(parseProxyUrl('socks5://[2001:db8::1]:1080'))).toBe('socks5://[2001:db8::1]:1080');
    expect(redactUrlText(`see http://bob:${SECRET}@p:1 and socks5://u:x@h`)).toBe(
      'see http://bob:****@p:1 and socks5://u:****@h',
    );
  });
});

describe('NO_PROXY as curl matches it', () => {
  it.each([
    ['*', EP, '*'],
    ['amazonaws.com', EP, 'amazonaws.com'],
    ['.amazonaws.com', EP, '.amazonaws.com'],
    ['iot.eu-west-1.amazonaws.com', EP, 'iot.eu-west-1.amazonaws.com'],
    ['AMAZONAWS.COM', EP, 'amazonaws.com'],
    ['example.com', 'a.example.com', 'example.com'],
    ['example.com', 'badexample.com', null],
    ['localhost, 10.0.0.0/8 ,example.org', '10.1.2.3', '10.0.0.0/8'],
    ['10.0.0.0/8', '11.0.0.1', null],
    ['2001:db8::/32', '2001:db8:0:1::5', '2001:db8::/32'],
    ['2001:db8::1', '2001:0db8:0:0:0:0:0:1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1', '[2001:db8::1]'],
    ['*.example.com', 'a.example.com', null],
    ['', EP, null],
  ])('NO_PROXY=%j, host %s → %j', (list, host, expected) => {
    expect(noProxyMatch(host, list)).toBe(expected);
  });
});

describe('choosing the proxy', () => {
  it('--proxy wins over the environment; NO_PROXY applies to it as to the environment (curl >= 7.53)', () => {
    const env = { HTTPS_PROXY: 'http://env:3128', NO_PROXY: 'corp.local' };
    expect(chooseProxy(EP, { proxy: 'socks5h://p:1080' }, env)).toMatchObject({
      proxy: { kind: 'socks5h', source: '--proxy' },
      reason: '--proxy',
    });
    const exempt = chooseProxy(EP, { proxy: 'socks5h://p:1080' }, { NO_PROXY: '.amazonaws.com' });
    expect(exempt.proxy).toBeNull();
    expect(exempt.reason).toBe(
      `no proxy: NO_PROXY entry ".amazonaws.com" exempts ${EP} from --proxy (--noproxy "" keeps the proxy)`,
    );
    expect(chooseProxy(EP, { proxy: 'http://p:1' }, { no_proxy: '*' }).reason).toContain('"*" (every host)');
    // --no-proxy: the environment, NO_PROXY included, is ignored; --proxy still applies
    expect(chooseProxy(EP, { proxy: 'http://p:1', noProxy: true }, { NO_PROXY: '*' }).proxy).toMatchObject({
      host: 'p',
    });
  });

  it("--noproxy LIST replaces NO_PROXY (curl's CURLOPT_NOPROXY); an empty list keeps the proxy for every host", () => {
    const env = { HTTPS_PROXY: 'http://env:3128', NO_PROXY: '.amazonaws.com' };
    expect(chooseProxy(EP, { noProxyList: '' }, env)).toMatchObject({
      proxy: { host: 'env', source: 'HTTPS_PROXY' },
      reason: 'HTTPS_PROXY from the environment',
    });
    expect(chooseProxy(EP, { noProxyList: 'corp.local' }, env).proxy).toMatchObject({ host: 'env' });
    const exempt = chooseProxy(EP, { proxy: 'http://p:1', noProxyList: 'iot.eu-west-1.amazonaws.com' }, {});
    expect(exempt.proxy).toBeNull();
    expect(exempt.reason).toBe(`no proxy: --noproxy entry "iot.eu-west-1.amazonaws.com" exempts ${EP} from --proxy`);
  });

  it('says why no proxy applies when none is configured', () => {
    expect(chooseProxy(EP, {}, {}).reason).toMatch(/^no proxy configured/);
    expect(chooseProxy(EP, { noProxy: true }, { HTTPS_PROXY: 'http://h:1' }).reason).toMatch(/^--no-proxy/);
    expect(chooseProxy(EP, {}, { ALL_PROXY: 'socks5://h:1' }).reason).toBe('ALL_PROXY from the environment');
  });

  it('reads https_proxy before HTTPS_PROXY, then all_proxy / ALL_PROXY; empty values are unset', () => {
    expect(chooseProxy(EP, {}, { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' }).proxy).toMatchObject({
      host: 'lower',
      source: 'https_proxy',
    });
    expect(chooseProxy(EP, {}, { https_proxy: '', HTTPS_PROXY: 'http://upper:2' }).proxy).toMatchObject({
      host: 'upper',
      source: 'HTTPS_PROXY',
    });
    expect(chooseProxy(EP, {}, { ALL_PROXY: 'socks5://all:3' }).proxy).toMatchObject({
      host: 'all',
      source: 'ALL_PROXY',
    });
    expect(chooseProxy(EP, {}, { all_proxy: 'socks5://a:3', HTTPS_PROXY: 'http://h:2' }).proxy).toMatchObject({
      host: 'h',
    });
    // curl ignores HTTP_PROXY for https:// (and http_proxy does not apply to TLS routes)
    expect(chooseProxy(EP, {}, { HTTP_PROXY: 'http://x:1', http_proxy: 'http://y:1' }).proxy).toBeNull();
  });

  it('NO_PROXY exempts the endpoint and says which entry; --no-proxy ignores everything', () => {
    const choice = chooseProxy(EP, {}, { HTTPS_PROXY: 'http://h:2', no_proxy: 'corp.local,.amazonaws.com' });
    expect(choice.proxy).toBeNull();
    expect(choice.note).toContain('no_proxy');
    expect(choice.note).toContain('.amazonaws.com');
    expect(chooseProxy(EP, { noProxy: true }, { HTTPS_PROXY: 'http://h:2' })).toMatchObject({ proxy: null });
  });

  it('a malformed variable is a usage error naming the variable, not the password', () => {
    expect(() => chooseProxy(EP, {}, { HTTPS_PROXY: `ftp://u:${SECRET}@h:1` })).toThrow(/HTTPS_PROXY/);
    expect(() => chooseProxy(EP, {}, { HTTPS_PROXY: `ftp://u:${SECRET}@h:1` })).not.toThrow(new RegExp(SECRET));
  });
});

describe('CONNECT request and reply', () => {
  it('uses the authority form with brackets for IPv6 and Basic credentials', () => {
    const req = connectRequest(parseProxyUrl('http://alice:pw@p:3128'), '2001:db8::2', 443, 'iot-doctor/test');
    expect(req.split('\r\n')).toEqual([
      'CONNECT [2001:db8::2]:443 HTTP/1.1',
      'Host: [2001:db8::2]:443',
      'User-Agent: iot-doctor/test',
      `Proxy-Authorization: Basic ${Buffer.from('alice:pw').toString('base64')}`,
      '',
      '',
    ]);
    expect(connectRequest(parseProxyUrl('http://p:3128'), EP, 8883, 'x')).not.toContain('Proxy-Authorization');
  });

  it('parses the status line and every Proxy-Authenticate challenge; refuses what is not HTTP', () => {
    expect(
      parseProxyReply(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="x"\r\nproxy-authenticate: Negotiate',
      ),
    ).toEqual({
      status: 407,
      statusLine: 'HTTP/1.1 407 Proxy Authentication Required',
      proxyAuthenticate: ['Basic realm="x"', 'Negotiate'],
    });
    expect(parseProxyReply('HTTP/1.0 200\r\n')).toMatchObject({ status: 200 });
    expect(parseProxyReply('SSH-2.0-OpenSSH')).toBeNull();
  });

  it('maps the socks package errors to REP codes (RFC 1928 §6)', () => {
    expect(classifySocksError('Socks5 proxy rejected connection - NotAllowed')).toEqual({
      code: 'PROXY_DENIED',
      rep: 2,
    });
    expect(classifySocksError('Socks5 proxy rejected connection - ConnectionRefused')).toEqual({
      code: 'PROXY_TARGET_UNREACHABLE',
      rep: 5,
    });
    expect(classifySocksError('Socks5 proxy rejected connection - Failure')).toEqual({ code: 'PROXY_ERROR', rep: 1 });
    expect(classifySocksError('Socks5 Authentication failed').code).toBe('PROXY_AUTH_REQUIRED');
    expect(classifySocksError('Received invalid Socks5 initial handshake (no accepted authentication type)').code).toBe(
      'PROXY_AUTH_REQUIRED',
    );
    expect(classifySocksError('Proxy connection timed out').code).toBe('PROXY_TIMEOUT');
  });
});
