import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  deviceTlsOptions,
  deviceTlsSClientArgs,
  describeDeviceTls,
  isDeviceTlsSet,
  parseDeviceTls,
} from '../../src/probes/device-tls.js';
import { TlsRecordMeter } from '../../src/probes/tls-records.js';

/** A TLS 1.2-shaped server flight: ServerHello, a Certificate message split over two records, ServerHelloDone. */
function flight(certBody: number): Buffer {
  const hs = (type: number, len: number): Buffer => {
    const b = Buffer.alloc(4 + len, 0xab);
    b[0] = type;
    b.writeUIntBE(len, 1, 3);
    return b;
  };
  const stream = Buffer.concat([hs(2, 70), hs(11, certBody), hs(14, 0)]);
  const records: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 4000) {
    const body = stream.subarray(i, i + 4000);
    const head = Buffer.from([22, 3, 3, 0, 0]);
    head.writeUInt16BE(body.length, 3);
    records.push(head, body);
  }
  return Buffer.concat(records);
}

describe('TLS record meter', () => {
  it('finds the Certificate message across records and the largest record, however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 20_000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 30 }),
        (certBody, cuts) => {
          const bytes = flight(certBody);
          const meter = new TlsRecordMeter();
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length]!;
            meter.push(bytes.subarray(at, at + n));
            at += n;
          }
          const total = 4 + 70 + 4 + certBody + 4;
          expect(meter.sizes.certificateMessageBytes).toBe(certBody + 4);
          expect(meter.sizes.largestRecordBytes).toBe(Math.min(4000, total));
          expect(meter.sizes.records).toBe(Math.ceil(total / 4000));
          expect(meter.sizes.serverFlightBytes).toBe(bytes.length);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('counts encrypted records before the end of the handshake only', () => {
    const meter = new TlsRecordMeter();
    meter.push(Buffer.from([23, 3, 3, 0, 3, 1, 2, 3]));
    meter.finishHandshake();
    meter.push(Buffer.from([23, 3, 3, 0, 2, 1, 2]));
    expect(meter.sizes).toMatchObject({
      encryptedHandshakeBytes: 3,
      serverFlightBytes: 8,
      records: 2,
      largestRecordBytes: 3,
    });
  });
});

describe('device TLS flags', () => {
  it('no flags change nothing', () => {
    const d = parseDeviceTls({});
    expect(isDeviceTlsSet(d)).toBe(false);
    expect(deviceTlsOptions(d)).toEqual({ minVersion: 'TLSv1.2' });
  });

  it('a TLS 1.2-only device with a short cipher list, no SNI, no ALPN, a 4 KB buffer', () => {
    const d = parseDeviceTls({
      'tls-version': '1.2',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256,AES128-SHA',
      'max-record': 4096,
      sni: false,
      alpn: false,
    });
    expect(deviceTlsOptions(d)).toEqual({
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA',
    });
    expect(deviceTlsSClientArgs(d)).toEqual([
      '-tls1_2',
      '-cipher',
      'ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA',
      '-noservername',
    ]);
    expect(describeDeviceTls(d)).toEqual([
      '--tls-version 1.2',
      '--ciphers ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA',
      '--max-record 4096',
      '--no-sni',
      '--no-alpn',
    ]);
  });

  it.each([
    [{ 'tls-version': '1.1' }, /--tls-version must be 1.2 or 1.3/],
    [{ ciphers: 'NOT-A-CIPHER' }, /NOT-A-CIPHER/],
    [{ ciphers: ' , ' }, /at least one/],
    [{ ciphers: 'AES128-SHA', 'tls-version': '1.3' }, /TLS 1.2/],
    [{ 'max-record': 100 }, /--max-record/],
    [{ 'max-record': 4096.5 }, /--max-record/],
  ])('refuses %j with one line', (flags, message) => {
    expect(() => parseDeviceTls(flags)).toThrow(UsageError);
    expect(() => parseDeviceTls(flags)).toThrow(message);
  });
});
