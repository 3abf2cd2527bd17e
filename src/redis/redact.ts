/**
 * Secrets out of text: the userinfo of anything that looks like a redis URL, and the known passwords
 * of an endpoint (and their percent-encoded forms), replaced by `***` before any error, log line,
 * report or ledger sees them.
 */

/**
 * Replace the password (and user) of a redis:// URL so it can be printed. The userinfo runs to the last
 * `@` of the token, whatever it holds: an unencoded `@` or `/` in a password leaks nothing (a db path
 * never holds an `@`, so the last one ends the userinfo even in a malformed URL).
 */
const USERINFO = /^(rediss?:\/\/)(\S*)@/i;

export function redactUrl(url: string): string {
  return url.replace(USERINFO, (_m, scheme: string, cred: string) => `${scheme}${cred.includes(':') ? cred.split(':')[0] + ':***' : '***'}@`);
}

/** `redis[s]://user:PASS@…` or `redis://:PASS@…`, read as redactUrl reads it (a user alone is no password). */
export function urlHasPassword(url: string): boolean {
  return USERINFO.exec(url)?.[2]?.includes(':') ?? false;
}

/** Replaces known secrets (and their percent-encoded forms) by `***`. */
export class Redactor {
  private readonly secrets: string[] = [];

  add(secret: string | null | undefined): void {
    if (!secret || secret.length < 1) return;
    for (const s of new Set([secret, encodeURIComponent(secret)])) if (!this.secrets.includes(s)) this.secrets.push(s);
    this.secrets.sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = redactUrl(text.replace(/(rediss?:\/\/\S*@)/gi, (m) => redactUrl(m)));
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  }

  /** The message of an error (or anything thrown), scrubbed. */
  message(e: unknown): string {
    return this.scrub(e instanceof Error ? e.message : String(e));
  }
}
