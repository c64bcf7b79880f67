import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFamilies, resolveFamily } from '../../src/probes/families.js';
import { startDnsServer } from '../helpers/dns-server.js';

describe('A and AAAA resolved per family', () => {
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  beforeAll(async () => {
    dns = await startDnsServer();
  });
  afterAll(async () => {
    await dns.close();
  });

  it('an IPv4-only name: A answers, AAAA is "none published", not a failure', async () => {
    const [v4, v6] = await resolveFamilies('ep.example', [4, 6], 2000, dns.address);
    expect(v4).toMatchObject({ family: 4, ok: true, addresses: ['127.0.0.1'] });
    expect(v6).toMatchObject({ family: 6, ok: false, none: true, code: 'DNS_NO_ANSWER' });
  });

  it('a name that does not exist: both families none; SERVFAIL is a failure; silence times out', async () => {
    expect(await resolveFamily('nx.example', 4, 2000, dns.address)).toMatchObject({ ok: false, none: true });
    expect(await resolveFamily('servfail.example', 4, 2000, dns.address)).toMatchObject({ ok: false, none: false });
    const silent = await resolveFamily('silent.example', 6, 300, dns.address);
    expect(silent).toMatchObject({ ok: false, none: false });
    expect(silent.durationMs).toBeLessThan(1500);
  });

  it('the system resolver: IP literals answer their own family only', async () => {
    expect(await resolveFamily('::1', 6, 1000)).toMatchObject({ ok: true, addresses: ['::1'] });
    expect(await resolveFamily('::1', 4, 1000)).toMatchObject({ ok: false, none: true });
    expect(await resolveFamily('localhost', 4, 2000)).toMatchObject({ ok: true, addresses: ['127.0.0.1'] });
  });
});
