// Behind a load balancer every socket comes from the balancer. With `trustedProxies` the
// per-address limits charge the client named in X-Forwarded-For instead; without it the header
// is ignored, so a client can never choose the address it is charged to.
import { describe, expect, it } from 'vitest';
import { clientAddress, MAX_FORWARDED_HOPS, parseTrustedProxies } from '../../src/server/client-address.js';
import { GatewayError } from '../../src/server/index.js';
import { connect, join, startGateway } from '../support/gateway-kit.js';

const balancer = parseTrustedProxies(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);

describe('clientAddress', () => {
  it('is the peer unless the peer is a trusted proxy', () => {
    expect(clientAddress('198.51.100.7', '203.0.113.1', balancer)).toBe('198.51.100.7');
    expect(clientAddress('10.1.2.3', '203.0.113.1', balancer)).toBe('203.0.113.1');
    expect(clientAddress('10.1.2.3', undefined, balancer)).toBe('10.1.2.3');
    expect(clientAddress('10.1.2.3', '203.0.113.1', undefined)).toBe('10.1.2.3');
    expect(clientAddress(undefined, '203.0.113.1', balancer)).toBe('unknown');
  });

  it('reads the header right to left past trusted hops, so a client cannot forge the hop that counts', () => {
    // The client sent "1.1.1.1" itself; the balancer appended the address it really saw.
    expect(clientAddress('10.0.0.5', '1.1.1.1, 203.0.113.9', balancer)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.5', '203.0.113.9, 10.0.0.6, 10.0.0.7', balancer)).toBe('203.0.113.9');
    // Every hop trusted: the leftmost is the best there is.
    expect(clientAddress('10.0.0.5', '10.0.0.9, 10.0.0.6', balancer)).toBe('10.0.0.9');
  });

  it('accepts ports, brackets and IPv4-mapped peers', () => {
    expect(clientAddress('::ffff:127.0.0.1', '203.0.113.1:5555', balancer)).toBe('203.0.113.1');
    expect(clientAddress('fd00::1', '[2001:db8::1]:443', balancer)).toBe('2001:db8::1');
    expect(clientAddress('::ffff:198.51.100.7', '203.0.113.1', balancer)).toBe('198.51.100.7');
  });

  it('stops at junk, charging the last trusted hop rather than a made-up identity', () => {
    expect(clientAddress('10.0.0.5', 'unknown', balancer)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', '203.0.113.1, not-an-ip, 10.0.0.6', balancer)).toBe('10.0.0.6');
    expect(clientAddress('10.0.0.5', '', balancer)).toBe('10.0.0.5');
  });

  it(`reads at most ${MAX_FORWARDED_HOPS} hops of a huge header`, () => {
    const header = ['203.0.113.1', ...Array.from({ length: 5000 }, () => '10.0.0.1')].join(',');
    expect(clientAddress('10.0.0.5', header, balancer)).toBe('10.0.0.1');
  });

  it('refuses entries that are neither addresses nor ranges', () => {
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/8/1', '::1/129', '10.0.0.0/x']) {
      expect(() => parseTrustedProxies([bad]), bad).toThrow(GatewayError);
    }
  });
});

describe('trustedProxies in the gateway', () => {
  const via = (address: string) => ({ headers: { 'x-forwarded-for': address } });

  it('charges the per-address socket cap to the forwarded client, not to the proxy', async () => {
    const gateway = await startGateway({ trustedProxies: ['127.0.0.1'], maxConnectionsPerAddress: 2 });
    await join(gateway, {}, via('203.0.113.1'));
    await join(gateway, {}, via('203.0.113.1'));
    const third = await connect(gateway, via('203.0.113.1'));
    expect(await third.next('hello_error')).toMatchObject({ code: 'rate_limited' });
    // Another user behind the same balancer has a budget of their own.
    await expect(join(gateway, {}, via('203.0.113.2'))).resolves.toBeDefined();
  });

  it('ignores the header from a peer that is not trusted', async () => {
    const gateway = await startGateway({ maxConnectionsPerAddress: 2 });
    await join(gateway, {}, via('203.0.113.1'));
    await join(gateway, {}, via('203.0.113.2'));
    const third = await connect(gateway, via('203.0.113.3'));
    expect(await third.next('hello_error')).toMatchObject({ code: 'rate_limited' });
  });

  it('gives the token verifier the client address', async () => {
    const seen: string[] = [];
    const gateway = await startGateway({
      trustedProxies: ['127.0.0.0/8'],
      verifyToken: (_token, context) => {
        seen.push(context.address);
        return true;
      },
    });
    await join(gateway, {}, via('198.51.100.20'));
    expect(seen).toEqual(['198.51.100.20']);
  });

  it('rejects a bad entry at start-up with configuration_error', async () => {
    await expect(startGateway({ trustedProxies: ['lb.internal'] })).rejects.toMatchObject({ code: 'configuration_error' });
  });
});
