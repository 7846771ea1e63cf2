/**
 * Running a command as root through sudo in one exec round trip, with or without a password, and
 * without the password ever reaching a command line, an environment variable, a log or a message.
 *
 * The command becomes
 *
 *     sudo -S -p '<prompt>' -- sh -c 'printf "%s\n" <ready> >&2; exec sh -c "$0"' '<command>'
 *
 * `-S` makes sudo read the password from the channel's stdin (no terminal is needed, so sudoers
 * without `requiretty` suffice) and `-p` sets a prompt unique to this exec. sshfix writes nothing
 * to stdin until stderr shows either the prompt (then it writes the password line) or the ready
 * line, printed by the root shell once sudo has let it in (then it writes the command's stdin).
 * A second prompt means the password was wrong. Everything sudo printed before the ready line is
 * removed from the command's stderr.
 */
import { randomBytes } from 'node:crypto';
import { shellCommand } from '../util/shell-quote.js';
import { TransportError, type ConnectTarget } from './types.js';

export interface SudoWrapped {
  /** The command line to run instead of the caller's. */
  command: string;
  prompt: string;
  /** The line (without newline) that says sudo has handed over to the command. */
  ready: string;
}

/** Wraps `command` for sudo with a fresh prompt and ready line (the nonce is for tests). */
export function wrapForSudo(
  command: string,
  nonce: string = randomBytes(9).toString('hex'),
  forwardEnv: readonly string[] = [],
): SudoWrapped {
  // sudo expands %u, %h, %H and %p in prompts, so the prompt holds none.
  const prompt = `[sshfix-sudo ${nonce}] password: `;
  const ready = `sshfix-sudo-ready ${nonce}`;
  const script = `printf '%s\\n' '${ready}' >&2; exec sh -c "$0"`;
  // sudo resets the environment: variables to keep are handed over as `env NAME="$NAME"`, expanded
  // by the login shell (only names are ever written into the command line).
  for (const name of forwardEnv) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`not an environment variable name: ${JSON.stringify(name)}`);
  }
  const keep = forwardEnv.length > 0 ? ` env ${forwardEnv.map((n) => `${n}="\${${n}-}"`).join(' ')}` : '';
  return {
    command: `${shellCommand('sudo', '-S', '-p', prompt, '--')}${keep} ${shellCommand('sh', '-c', script, command)}`,
    prompt,
    ready,
  };
}

export type SudoFailureReason = 'password-required' | 'password-rejected' | 'refused' | 'no-handover';

/** What the caller must do after feeding a chunk of stderr. */
export interface SudoStep {
  /** Write the password line to stdin now. */
  writePassword?: boolean;
  /** sudo handed over: write the command's stdin; `stderr` is the command's first stderr bytes. */
  ready?: boolean;
  /** The command's stderr to keep (only once ready). */
  stderr?: Buffer;
  /** Stop: sudo will not run the command. */
  failed?: SudoFailureReason;
}

/** The stderr side of the handshake: a small state machine fed with the channel's stderr. */
export class SudoHandshake {
  private pending: Buffer = Buffer.alloc(0);
  private readonly chatterParts: Buffer[] = [];
  private prompts = 0;
  private readonly promptBytes: Buffer;
  private readonly readyBytes: Buffer;
  state: 'waiting' | 'ready' | 'failed' = 'waiting';

  constructor(
    wrapped: Pick<SudoWrapped, 'prompt' | 'ready'>,
    private readonly hasPassword: boolean,
  ) {
    this.promptBytes = Buffer.from(wrapped.prompt);
    this.readyBytes = Buffer.from(`${wrapped.ready}\n`);
  }

  feed(chunk: Buffer): SudoStep {
    if (this.state === 'ready') return { stderr: chunk };
    if (this.state === 'failed') return {};
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const step: SudoStep = {};
    for (;;) {
      const atPrompt = this.pending.indexOf(this.promptBytes);
      const atReady = this.pending.indexOf(this.readyBytes);
      if (atReady >= 0 && (atPrompt < 0 || atReady < atPrompt)) {
        this.chatterParts.push(this.pending.subarray(0, atReady));
        const rest = this.pending.subarray(atReady + this.readyBytes.length);
        this.pending = Buffer.alloc(0);
        this.state = 'ready';
        return { ...step, ready: true, stderr: rest };
      }
      if (atPrompt < 0) break;
      this.chatterParts.push(this.pending.subarray(0, atPrompt));
      this.pending = this.pending.subarray(atPrompt + this.promptBytes.length);
      this.prompts++;
      if (this.prompts > 1) return this.fail('password-rejected');
      if (!this.hasPassword) return this.fail('password-required');
      step.writePassword = true;
    }
    // Neither marker can be longer than this, so older bytes are sudo's own words.
    const keep = Math.max(this.promptBytes.length, this.readyBytes.length);
    if (this.pending.length > 4 * keep) {
      this.chatterParts.push(this.pending.subarray(0, this.pending.length - keep));
      this.pending = this.pending.subarray(this.pending.length - keep);
    }
    return step;
  }

  /** The process ended before the ready line: sudo refused (not in sudoers, requiretty, ...). */
  exitedEarly(): SudoFailureReason {
    if (this.state === 'waiting') this.state = 'failed';
    // After a correct password sudo may still refuse (not in sudoers): only its own words tell.
    const rejected = this.prompts > 0 && /incorrect password|try again|authentication failure/i.test(this.chatter());
    return rejected ? 'password-rejected' : 'refused';
  }

  /** What sudo itself printed (prompts removed), for the failure message. */
  chatter(): string {
    return Buffer.concat([...this.chatterParts, this.pending]).toString('utf8').trim();
  }

  private fail(reason: SudoFailureReason): SudoStep {
    this.state = 'failed';
    return { failed: reason };
  }
}

export interface SudoFailureContext {
  host: string;
  user: string;
  becomePasswordEnv?: string;
  /** The password, only so that it can be scrubbed should a PAM module ever echo it back. */
  password?: string;
}

/** The context for sudo's error messages on a connection to `target`. */
export function sudoContext(target: ConnectTarget, password: string | undefined): SudoFailureContext {
  const ctx: SudoFailureContext = { host: target.name, user: target.user };
  if (target.becomePasswordEnv) ctx.becomePasswordEnv = target.becomePasswordEnv;
  if (password !== undefined) ctx.password = password;
  return ctx;
}

/** The TransportError for a sudo that did not run the command. */
export function sudoFailedError(reason: SudoFailureReason, chatter: string, ctx: SudoFailureContext): TransportError {
  let said = chatter.replace(/\[sshfix-sudo [0-9a-f]+\] password: /g, '').trim();
  if (ctx.password) said = said.split(ctx.password).join('********');
  const envName = ctx.becomePasswordEnv ? `$${ctx.becomePasswordEnv}` : undefined;
  const quoted = said ? ` (sudo said: "${said.replace(/\s+/g, ' ').slice(0, 300)}")` : '';
  const details = { host: ctx.host, user: ctx.user, reason, ...(said ? { sudoSaid: said } : {}) };
  switch (reason) {
    case 'password-required':
      return new TransportError(
        'sudo-failed',
        `sudo on ${ctx.host} asks ${ctx.user} for a password and none is configured`,
        envName
          ? `${envName} (become_password_env) is not set in sshfix's environment: export it with ${ctx.user}'s password.`
          : `set become_password_env to the name of an environment variable holding ${ctx.user}'s sudo password, ` +
              `or allow ${ctx.user} to run sudo without one (NOPASSWD in a sudoers drop-in).`,
        details,
      );
    case 'password-rejected':
      return new TransportError(
        'sudo-failed',
        `sudo on ${ctx.host} rejected the password for ${ctx.user}${envName ? ` from ${envName}` : ''}${quoted}`,
        `Check the password in ${envName ?? 'the variable named by become_password_env'}: it must be ${ctx.user}'s own ` +
          'login password on that host. Repeated failures may lock the account (pam_faillock) and are logged by sudo.',
        details,
      );
    case 'no-handover':
      return new TransportError(
        'sudo-failed',
        `sudo on ${ctx.host} neither asked for a password sshfix recognises nor started the command${quoted}`,
        'sudo is waiting for something else: a PAM module with its own prompt (one-time passwords, a second factor) or ' +
          `a hung account lookup. sshfix can answer only sudo's own password prompt; give ${ctx.user} a sudoers rule ` +
          'that does not need the extra factor, or connect as root.',
        details,
      );
    case 'refused':
      return new TransportError(
        'sudo-failed',
        `sudo on ${ctx.host} did not run the command as root for ${ctx.user}${quoted}`,
        /terminal is required|must have a tty|requiretty/i.test(said)
          ? 'The sudoers policy requires a terminal (Defaults requiretty). sshfix runs without one: remove requiretty ' +
              `for ${ctx.user} (e.g. \`Defaults:${ctx.user} !requiretty\` in a sudoers drop-in).`
          : /not in the sudoers|not allowed to execute|may not run sudo/i.test(said)
            ? `${ctx.user} may not run commands as root through sudo on this host: add a sudoers rule for it, or connect as ` +
                'another account. If no password was supplied, set become_password_env.'
            : `sudo is missing or refused. Check that sudo is installed and that ${ctx.user} may run \`sudo -S sh\`; ` +
                'set become_password_env if sudo needs a password.',
        details,
      );
  }
}
