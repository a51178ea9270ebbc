// Which addresses a webhook may go to (WEBHOOK_ALLOW_PRIVATE) and which hosts VK files may come from
// (VK_FILE_HOSTS): the classes refused, the operator's allowances, and the configuration errors.
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { describe, it } from 'node:test';
import { onFileHost, parseFileHosts } from '../../src/adapters/vk/file-hosts.ts';
import {
  checkWebhookTarget,
  checkWebhookUrl,
  nonPublicReason,
  PUBLIC_ONLY,
  parsePrivateAddressPolicy,
  type Resolve,
  WebhookAddressError,
} from '../../src/adapters/webhooks/address-guard.ts';
import { loadConfig } from '../../src/app/config.ts';

const dns =
  (answers: Record<string, string[]>): Resolve =>
  async (host) => {
    const found = answers[host];
    if (!found) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

const refusal = async (url: string, policy = PUBLIC_ONLY, resolve: Resolve = dns({})) => {
  try {
    await checkWebhookTarget(url, policy, resolve);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof WebhookAddressError, String(error));
    return error.message;
  }
};

describe('webhook addresses', () => {
  it('refuses every non-public class, IPv4 and IPv6, and IPv4 written as IPv6', () => {
    const refused: Record<string, RegExp> = {
      '127.0.0.1': /loopback/,
      '127.8.9.10': /loopback/,
      '::1': /loopback/,
      '10.0.0.1': /private/,
      '172.16.5.4': /private/,
      '192.168.1.1': /private/,
      '100.64.0.1': /carrier-grade NAT/,
      '169.254.169.254': /link-local .*metadata/,
      'fe80::1': /link-local/,
      'fc00::1': /unique-local/,
      'fd12:3456::1': /unique-local/,
      '0.0.0.0': /unspecified/,
      '::': /unspecified/,
      '224.0.0.1': /multicast/,
      'ff02::1': /multicast/,
      '255.255.255.255': /broadcast/,
      '192.0.2.10': /special-purpose/,
      '240.0.0.1': /special-purpose/,
      '::ffff:127.0.0.1': /loopback/,
      '::ffff:169.254.169.254': /link-local/,
      '64:ff9b::a00:1': /private/,
      '::7f00:1': /IPv4-compatible/,
      '2002:7f00:1::1': /6to4/,
    };
    for (const [address, why] of Object.entries(refused))
      assert.match(nonPublicReason(address) ?? 'public', why, address);
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '64:ff9b::808:808'])
      assert.equal(nonPublicReason(address), undefined, address);
  });

  it('refuses literal and resolved private hosts with a message naming the address; allows what the operator lists', async () => {
    assert.match(
      (await refusal('http://127.0.0.1:8080/hook')) ?? '',
      /^127\.0\.0\.1 is a loopback address: refused \(set WEBHOOK_ALLOW_PRIVATE/,
    );
    assert.match((await refusal('http://169.254.169.254/latest/meta-data/')) ?? '', /link-local/);
    assert.match((await refusal('http://[::1]/hook')) ?? '', /^::1 is a loopback address/);
    assert.match((await refusal('http://10.0.0.1/')) ?? '', /private network/);
    assert.match(
      (await refusal('http://2130706433/')) ?? '',
      /^127\.0\.0\.1 is a loopback/,
      'numeric host read as the address it is',
    );
    assert.match((await refusal('http://[::ffff:a00:1]/')) ?? '', /private/);
    const internal = dns({ 'hooks.corp.test': ['10.1.2.3'], 'mixed.test': ['10.1.2.3', '93.184.215.14'] });
    assert.match(
      (await refusal('https://hooks.corp.test/x', PUBLIC_ONLY, internal)) ?? '',
      /^hooks\.corp\.test resolves to 10\.1\.2\.3, a private/,
    );
    assert.match((await refusal('https://nowhere.test/x')) ?? '', /does not resolve \(ENOTFOUND\)/);
    assert.equal(
      await checkWebhookUrl('https://nowhere.test/x', PUBLIC_ONLY, dns({})),
      'https://nowhere.test/x',
      'registered while it does not resolve: it is checked at every send',
    );
    assert.match((await refusal('ftp://example.com/')) ?? '', /http\(s\) URL/);
    assert.match((await refusal('https://user:pw@example.com/')) ?? '', /user name or password/);

    const mixed = await checkWebhookTarget('https://mixed.test/x', PUBLIC_ONLY, internal);
    assert.deepEqual(
      mixed.addresses.map((a) => a.address),
      ['93.184.215.14'],
      'only the public address is connected to',
    );

    const allowed = parsePrivateAddressPolicy('127.0.0.1, 10.1.0.0/16, hooks.internal.test');
    assert.equal(await refusal('http://127.0.0.1:8080/hook', allowed), undefined);
    assert.equal(await refusal('https://hooks.corp.test/x', allowed, internal), undefined);
    assert.match((await refusal('http://127.0.0.2/', allowed)) ?? '', /loopback/, 'only what is listed');
    assert.equal(
      await refusal('http://hooks.internal.test/', allowed, dns({ 'hooks.internal.test': ['192.168.7.7'] })),
      undefined,
    );
    assert.equal(await refusal('http://169.254.169.254/', parsePrivateAddressPolicy('true')), undefined);
  });

  it('WEBHOOK_ALLOW_PRIVATE and VK_FILE_HOSTS: a wrong entry stops start-up naming the variable', () => {
    assert.throws(
      () => loadConfig({ WEBHOOK_ALLOW_PRIVATE: '10.0.0.0/8, yes please' }),
      /WEBHOOK_ALLOW_PRIVATE "yes please" is not an address/,
    );
    assert.throws(
      () => loadConfig({ WEBHOOK_ALLOW_PRIVATE: '10.0.0.0/40' }),
      /WEBHOOK_ALLOW_PRIVATE "10\.0\.0\.0\/40" is not a CIDR range/,
    );
    assert.throws(
      () => loadConfig({ VK_FILE_HOSTS: 'https://userapi.com/' }),
      /VK_FILE_HOSTS "https:\/\/userapi\.com\/" is not a host name/,
    );
    assert.equal(loadConfig({}).WEBHOOK_ALLOW_PRIVATE.allowAll, false);
  });
});

describe('VK file hosts', () => {
  const hosts = parseFileHosts(
    loadConfig({})
      .VK_FILE_HOSTS.map((h) => h.host)
      .join(','),
  );
  const on = (url: string, list = hosts) => onFileHost(new URL(url), list);

  it('by default VK’s content hosts and their subdomains, nothing else', () => {
    assert.ok(on('https://sun9-57.userapi.com/impg/abc.jpg?size=1280x960'));
    assert.ok(on('https://psv4.userapi.com/c909518/u1/docs/d60/x.png'));
    assert.ok(on('https://vk.com/doc1_2?hash=x'));
    assert.ok(on('https://cs9-8v4.vkuseraudio.net/s/v1/ac/x.ogg'));
    assert.equal(on('https://userapi.com.evil.example/x.jpg'), false);
    assert.equal(on('https://evilvk.com/x.jpg'), false);
    assert.equal(on('http://127.0.0.1:8080/x.jpg'), false);
    assert.equal(on('http://169.254.169.254/latest/meta-data/'), false);
  });

  it('host:port names one port', () => {
    const local = parseFileHosts('127.0.0.1:8081');
    assert.ok(on('http://127.0.0.1:8081/cdn/x', local));
    assert.equal(on('http://127.0.0.1:8082/cdn/x', local), false);
    assert.ok(on('https://sun1.userapi.com:443/x', parseFileHosts('userapi.com:443')));
  });
});
