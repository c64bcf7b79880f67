/** Quote a word for a POSIX shell when it needs it, so reproduce commands can be pasted as they are. */
export function shq(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `host:port`, with an IPv6 address in brackets (`[::1]:8883`), as URLs and openssl -connect want it. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
