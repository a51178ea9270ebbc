// The hosts a VK attachment may be downloaded from (VK_FILE_HOSTS). The URL comes inside a VK event,
// so a forged or odd one must not make the service fetch from anywhere else (its own network, a
// metadata endpoint); redirects are followed only while they stay on these hosts.

/** VK's content hosts: photos and documents (userapi.com, vkuser.net), voice and video CDNs, vk.com's stickers and doc links. */
export const DEFAULT_VK_FILE_HOSTS =
  'userapi.com,vk.com,vk.ru,vk.me,vkuser.net,vkuseraudio.net,vkuservideo.net,vk-cdn.net';

export interface FileHost {
  /** Lower case; a name also covers its subdomains, an IP address only itself. */
  readonly host: string;
  /** Only this port, when given; any port otherwise. */
  readonly port?: string;
}

const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Parses a comma-separated list of `host` or `host:port` (`userapi.com`, `127.0.0.1:8081`,
 * `[::1]:8081`); throws an Error naming a wrong entry.
 */
export const parseFileHosts = (text: string): FileHost[] => {
  const hosts: FileHost[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(entry.replace(/^\*\./, ''));
    const host = m?.[1] ? `[${m[1]}]` : m?.[2];
    if (!host || (!m?.[1] && !NAME.test(host) && !IPV4.test(host)))
      throw new Error(`"${raw.trim()}" is not a host name, or host:port (e.g. userapi.com, 127.0.0.1:8081)`);
    hosts.push(m?.[3] ? { host, port: m[3] } : { host });
  }
  if (hosts.length === 0) throw new Error('names no host (the default is VK’s content hosts)');
  return hosts;
};

const defaultPort = (url: URL) => url.port || (url.protocol === 'https:' ? '443' : '80');

/** Whether `url` is on one of `hosts`. */
export const onFileHost = (url: URL, hosts: readonly FileHost[]): boolean => {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const literal = host.startsWith('[') || IPV4.test(host);
  return hosts.some(
    (h) =>
      (h.host === host ||
        (!literal && !h.host.startsWith('[') && !IPV4.test(h.host) && host.endsWith(`.${h.host}`))) &&
      (h.port === undefined || h.port === defaultPort(url)),
  );
};
