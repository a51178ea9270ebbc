// Where a source's webhook may point: only public addresses, unless the operator allows more
// (WEBHOOK_ALLOW_PRIVATE). A source names the URL, so without this check it could make the service
// post to its own loopback, the private network or a cloud metadata endpoint. The URL is checked
// when it is registered and again at every send, after DNS resolution, and the request then
// connects only to the addresses that passed (a name that resolves differently the second time —
// DNS rebinding — gains nothing). The reasoning: docs/design.md, "Outbound requests a source or a
// client can steer"; the classes refused: README.md, "External sources API".

import type { LookupAddress } from 'node:dns';
import { promises as dns } from 'node:dns';
import ipaddr from 'ipaddr.js';
import type { CheckedWebhookUrl } from '../sources/sources.ts';

/** What WEBHOOK_ALLOW_PRIVATE allows beyond public addresses. */
export interface PrivateAddressPolicy {
  /** `true`: every address (the check is off). */
  readonly allowAll: boolean;
  /** Ranges (single addresses as /32 or /128) allowed whatever their class. */
  readonly ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
  /** Host names whose addresses are allowed whatever they are (lower case, no trailing dot). */
  readonly hosts: ReadonlySet<string>;
}

export const PUBLIC_ONLY: PrivateAddressPolicy = { allowAll: false, ranges: [], hosts: new Set() };

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/**
 * Parses WEBHOOK_ALLOW_PRIVATE: `false` (or empty), `true`, or a comma-separated list of addresses
 * (`127.0.0.1`, `::1`), CIDR ranges (`10.0.0.0/8`, `fd00::/8`) and host names (`hooks.internal`).
 * Throws an Error saying which entry is wrong.
 */
export const parsePrivateAddressPolicy = (text: string): PrivateAddressPolicy => {
  const value = text.trim().toLowerCase();
  if (value === '' || value === 'false') return PUBLIC_ONLY;
  if (value === 'true') return { ...PUBLIC_ONLY, allowAll: true };
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  const hosts = new Set<string>();
  for (const raw of value.split(',')) {
    const entry = raw.trim().replace(/^\[(.*)\]$/, '$1');
    if (!entry) continue;
    if (entry.includes('/')) {
      if (
        !ipaddr.isValidCIDR(entry) ||
        (entry.includes('.') && !entry.includes(':') && !ipaddr.IPv4.isValidCIDRFourPartDecimal(entry))
      )
        throw new Error(`"${raw.trim()}" is not a CIDR range (e.g. 10.0.0.0/8 or fd00::/8)`);
      ranges.push(ipaddr.parseCIDR(entry));
    } else if (ipaddr.IPv4.isValidFourPartDecimal(entry) || ipaddr.IPv6.isValid(entry)) {
      const address = unwrap(ipaddr.parse(entry));
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (!/^[\d.]+$/.test(entry) && HOST_NAME.test(entry.replace(/\.$/, ''))) {
      hosts.add(entry.replace(/\.$/, ''));
    } else {
      throw new Error(`"${raw.trim()}" is not an address, a CIDR range or a host name`);
    }
  }
  return { allowAll: false, ranges, hosts };
};

/** An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is that IPv4 address. */
const unwrap = (address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 =>
  address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;

const WHY: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private network address (RFC 1918)',
  carrierGradeNat: 'a carrier-grade NAT address (100.64.0.0/10)',
  linkLocal: 'a link-local address (cloud metadata services live at 169.254.169.254)',
  uniqueLocal: 'a unique-local IPv6 address (fc00::/7)',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
};

/**
 * Why `address` is not a public unicast address, or undefined when it is. Every special-purpose
 * class ipaddr.js knows is refused; an IPv4 address inside IPv6 (mapped, or the NAT64 prefix
 * 64:ff9b::/96) is judged as the IPv4 address it carries.
 */
export const nonPublicReason = (address: string): string | undefined => {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  let ip = unwrap(ipaddr.parse(address));
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    if (v6.range() === 'rfc6052' && v6.match(ipaddr.IPv6.parse('64:ff9b::'), 96)) {
      ip = new ipaddr.IPv4(v6.toByteArray().slice(12));
    }
  }
  const range = ip.range();
  // ::a.b.c.d, the deprecated IPv4-compatible form, is "unicast" to ipaddr.js; no public service lives there.
  if (
    range === 'unicast' &&
    ip.kind() === 'ipv6' &&
    (ip as ipaddr.IPv6).parts.slice(0, 6).every((p) => p === 0)
  )
    return 'an IPv4-compatible IPv6 address (::/96)';
  if (range === 'unicast') return undefined;
  return WHY[range] ?? `a special-purpose address (${range})`;
};

/** Whether the policy lets a request to `host` go to `address`. */
export const addressAllowed = (address: string, host: string, policy: PrivateAddressPolicy): boolean => {
  if (policy.allowAll || policy.hosts.has(normalHost(host))) return true;
  if (nonPublicReason(address) === undefined) return true;
  if (!ipaddr.isValid(address)) return false;
  const ip = unwrap(ipaddr.parse(address));
  return policy.ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
};

const normalHost = (host: string) =>
  host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');

/** DNS as the system resolves names (what `fetch` and `http.request` would connect to). */
export type Resolve = (host: string) => Promise<readonly LookupAddress[]>;

export const systemResolve: Resolve = (host) => dns.lookup(host, { all: true, verbatim: true });

/** A webhook URL that cannot be used; `detail` names the address and is for the operator only. */
export class WebhookAddressError extends Error {
  override readonly name = 'WebhookAddressError';
  constructor(
    message: string,
    /** What the source may be told: no resolved address, nothing about the private network. */
    readonly publicReason: string,
    /** The name did not resolve (rather than resolving to refused addresses). */
    readonly unresolved = false,
  ) {
    super(message);
  }
}

export interface CheckedTarget {
  readonly url: URL;
  /** The addresses a request may connect to (all of them passed the policy). */
  readonly addresses: readonly LookupAddress[];
}

const ALLOW_HINT = 'set WEBHOOK_ALLOW_PRIVATE to allow it';

/**
 * Parses and checks a webhook URL: http(s), no credentials, and a host whose addresses pass the
 * policy — the literal address, or what the name resolves to (the addresses that do not pass are
 * dropped; none left is an error). Throws WebhookAddressError.
 */
export const checkWebhookTarget = async (
  text: string,
  policy: PrivateAddressPolicy,
  resolve: Resolve = systemResolve,
): Promise<CheckedTarget> => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookAddressError(
      `must be an http(s) URL (got "${text}")`,
      'the webhook URL is not an http(s) URL',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new WebhookAddressError(
      `must be an http(s) URL (got "${text}")`,
      'the webhook URL is not an http(s) URL',
    );
  if (url.username || url.password)
    throw new WebhookAddressError(
      'must not carry a user name or password (the signature authenticates the requests)',
      'the webhook URL carries credentials',
    );
  const host = normalHost(url.hostname);
  const refused = 'the webhook host does not resolve to a public address (WEBHOOK_ALLOW_PRIVATE)';
  if (ipaddr.isValid(host)) {
    const family = ipaddr.parse(host).kind() === 'ipv4' ? 4 : 6;
    if (!addressAllowed(host, host, policy))
      throw new WebhookAddressError(`${host} is ${nonPublicReason(host)}: refused (${ALLOW_HINT})`, refused);
    return { url, addresses: [{ address: host, family }] };
  }
  let all: readonly LookupAddress[];
  try {
    all = await resolve(host);
  } catch (error) {
    const code = (error as { code?: string }).code ?? String(error);
    throw new WebhookAddressError(`${host} does not resolve (${code})`, refused, true);
  }
  const addresses = all.filter((a) => addressAllowed(a.address, host, policy));
  if (addresses.length === 0) {
    const shown = all.map((a) => `${a.address}, ${nonPublicReason(a.address) ?? 'refused'}`).join('; ');
    if (all.length === 0) throw new WebhookAddressError(`${host} does not resolve`, refused, true);
    throw new WebhookAddressError(`${host} resolves to ${shown}: refused (${ALLOW_HINT})`, refused);
  }
  return { url, addresses };
};

/** What checkWebhookUrl returns: the type the source registry asks for (sources.ts declares it). */
export type { CheckedWebhookUrl };

/**
 * Checks a URL a source is to be registered with and returns it normalised, or throws
 * WebhookAddressError. A name that does not resolve yet is accepted (DNS may be set up later, or be
 * out of reach now): what it resolves to is checked at every send anyway.
 */
export const checkWebhookUrl = async (
  text: string,
  policy: PrivateAddressPolicy,
  resolve: Resolve = systemResolve,
): Promise<CheckedWebhookUrl> => {
  try {
    return (await checkWebhookTarget(text, policy, resolve)).url.toString() as CheckedWebhookUrl;
  } catch (error) {
    if (error instanceof WebhookAddressError && error.unresolved)
      return new URL(text).toString() as CheckedWebhookUrl;
    throw error;
  }
};
