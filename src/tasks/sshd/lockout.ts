/**
 * Lockout prediction: would the planned sshd config refuse the runner's own login? sshd decides,
 * for the connection (user, address, groups, port) and with Match blocks applied: DenyUsers,
 * AllowUsers, DenyGroups, AllowGroups (in that order), PermitRootLogin for root, then whether any
 * method the runner authenticates with is still enabled and satisfies AuthenticationMethods.
 * Only a refusal the change causes counts: the runner is logged in, so the config as it is lets
 * it in (when this model says otherwise, it knows too little and stays quiet).
 */
import type { SshdDefaults } from '../../config/sshd/defaults.js';
import { effectiveValue, type ConfigOrigin, type EffectiveSshdValue, type MatchConnection } from '../../config/sshd/effective.js';
import { addressListMatches } from '../../config/sshd/match.js';
import { matchGroupLine, type SshdConfigTree } from '../../config/sshd/tree.js';
import { matchWildcard } from '../../config/sshd/values.js';
import type { LoginMethod, PlanOutcome, RunnerLogin } from '../planner.js';

export interface LockoutInput {
  before: SshdConfigTree;
  after: SshdConfigTree;
  login: RunnerLogin;
  version: string;
  defaults: SshdDefaults;
}

/** Why sshd would refuse the login, and the line that says so (undefined: sshd's default). */
interface Verdict {
  refused?: { reason: string; origin?: ConfigOrigin };
  /** What the model cannot tell (the user's groups are not known). */
  unknown?: { reason: string; origin?: ConfigOrigin };
  /** The runner's methods sshd would still offer it, and the line that turns each other one off. */
  enabled?: LoginMethod[];
  disabledBy?: Map<LoginMethod, ConfigOrigin | undefined>;
}

const at = (origin: ConfigOrigin | undefined): string => (origin ? `${origin.path}:${origin.line}` : "sshd's default");

/** sshd's match_user: `user` or `user@host`, the host part tested against the address (UseDNS no). */
function userPatternMatches(pattern: string, user: string, address: string | undefined): boolean {
  const split = pattern.indexOf('@');
  if (split === -1) return matchWildcard(user, pattern);
  if (!matchWildcard(user, pattern.slice(0, split))) return false;
  if (address === undefined) return false;
  // CIDR entries, else wildcards against the address (sshd's match_host_and_ip).
  return addressListMatches(address, pattern.slice(split + 1)) === 1;
}

/** The line of an accumulated list that holds the item (each source line's own arguments). */
function lineHolding(tree: SshdConfigTree, value: EffectiveSshdValue, found: (item: string) => boolean): ConfigOrigin | undefined {
  return value.sources.find((o) => (tree.files.get(o.path)?.lines[o.line - 1]?.args ?? []).some((a) => found(a.value))) ?? value.source;
}

/**
 * sshd's verdict on the runner's login. When the login's groups are not known (a Match Group that
 * came from a template's value, or a host where `id -Gn` failed) and a Match Group block may
 * apply, the login is judged both outside and inside every such block: refused both ways is a
 * refusal, refused one way only is "cannot tell", never "allowed".
 */
function judge(tree: SshdConfigTree, login: RunnerLogin, options: { version: string; defaults: SshdDefaults }): Verdict {
  const groupMatch = login.groups ? undefined : matchGroupLine(tree);
  if (!groupMatch) return judgeFor(tree, login, options);
  const outside = judgeFor(tree, login, options, false);
  const inside = judgeFor(tree, login, options, true);
  if (outside.refused && inside.refused) return outside;
  const refused = outside.refused ?? inside.refused;
  if (refused) {
    const where = outside.refused ? 'outside' : 'inside';
    return { unknown: { reason: `${refused.reason} if ${login.user} is ${where} the groups of a Match Group block, and ${login.user}'s groups on the host are not known`, origin: groupMatch } };
  }
  return outside.unknown ? outside : inside.unknown ? inside : outside;
}

/** The verdict for one assumption about Match Group blocks (`inGroups`), when the login's groups are not known. */
function judgeFor(tree: SshdConfigTree, login: RunnerLogin, options: { version: string; defaults: SshdDefaults }, inGroups?: boolean): Verdict {
  const connection: MatchConnection = {
    user: login.user,
    ...(login.address ? { addr: login.address, host: login.address } : {}),
    ...(login.port !== undefined ? { lport: login.port } : {}),
    ...(login.groups ? { groups: login.groups } : inGroups ? { anyGroup: true } : {}),
  };
  const value = (keyword: string): EffectiveSshdValue => effectiveValue(tree, keyword, connection, options);
  const { user, address } = login;

  const deny = value('DenyUsers');
  const denied = deny.values.find((p) => userPatternMatches(p, user, address));
  if (denied !== undefined) return { refused: { reason: `DenyUsers lists ${denied}`, origin: lineHolding(tree, deny, (a) => a === denied) } };
  const allow = value('AllowUsers');
  if (allow.values.length > 0 && !allow.values.some((p) => userPatternMatches(p, user, address))) {
    return { refused: { reason: `AllowUsers does not list ${user}`, origin: allow.source } };
  }
  // Groups that are not known leave the verdict open, unless a later check refuses the login anyway.
  let unknown: Verdict['unknown'];
  for (const [keyword, listed] of [['DenyGroups', true], ['AllowGroups', false]] as const) {
    const groups = value(keyword);
    if (groups.values.length === 0) continue;
    if (!login.groups) {
      unknown ??= { reason: `${keyword} ${groups.values.join(' ')} applies, and ${user}'s groups on the host are not known`, origin: groups.source };
      continue;
    }
    const hit = groups.values.find((p) => login.groups!.some((g) => matchWildcard(g, p)));
    if (listed && hit !== undefined) return { refused: { reason: `DenyGroups lists ${hit}, a group of ${user}`, origin: lineHolding(tree, groups, (a) => a === hit) } };
    if (!listed && hit === undefined) return { refused: { reason: `AllowGroups lists none of ${user}'s groups (${login.groups.join(' ')})`, origin: groups.source } };
  }

  const root = value('PermitRootLogin');
  const rootMode = user === 'root' ? root.values[0] : 'yes';
  if (rootMode === 'no' || rootMode === 'forced-commands-only') {
    return { refused: { reason: `PermitRootLogin ${rootMode} refuses root${rootMode === 'forced-commands-only' ? " (only a key's forced command may run)" : ''}`, origin: root.source } };
  }
  const disabled: string[] = [];
  const disabledBy = new Map<LoginMethod, ConfigOrigin | undefined>();
  const enabled = login.methods.filter((m) => {
    const flag = value(methodFlag(m));
    let off = flag.values[0] !== 'yes' ? `${methodFlag(m)} ${flag.values[0] ?? 'no'}` : undefined;
    let from = flag.source;
    if (!off && m === 'keyboard-interactive' && value('UsePAM').values[0] !== 'yes') {
      off = 'UsePAM no';
      from = value('UsePAM').source;
    }
    if (!off && m !== 'publickey' && (rootMode === 'prohibit-password' || rootMode === 'without-password')) {
      off = `PermitRootLogin ${rootMode}`;
      from = root.source;
    }
    if (off) {
      disabled.push(`${m} (${off} at ${at(from)})`);
      disabledBy.set(m, from);
    }
    return !off;
  });
  if (enabled.length === 0) return { refused: { reason: `no method the runner logs in with is enabled: ${disabled.join(', ')}`, origin: disabledBy.values().next().value }, enabled, disabledBy };
  const methods = value('AuthenticationMethods');
  const chains = (methods.values[0] ?? 'any').split(/\s+/).filter(Boolean);
  if (!chains.includes('any') && !chains.some((chain) => chain.split(',').every((m) => enabled.includes(m.split(':')[0] as LoginMethod)))) {
    return { refused: { reason: `AuthenticationMethods ${chains.join(' ')} needs a method the runner does not have (it uses ${enabled.join(', ')})`, origin: methods.source }, enabled };
  }
  return { ...(unknown ? { unknown } : {}), enabled, disabledBy };
}

function methodFlag(method: LoginMethod): string {
  return method === 'publickey' ? 'PubkeyAuthentication' : method === 'password' ? 'PasswordAuthentication' : 'KbdInteractiveAuthentication';
}

/** A refusal `would-lock-out` when the change makes sshd refuse the runner's login, or a warning when it cannot tell. */
export function predictLockout(input: LockoutInput): { refusal?: PlanOutcome['refusal']; warning?: string } {
  const options = { version: input.version, defaults: input.defaults };
  const after = judge(input.after, input.login, options);
  const who = `${input.login.user}${input.login.address ? ` from ${input.login.address}` : ''}`;
  if (after.refused) {
    const before = judge(input.before, input.login, options);
    // A config this model already refuses is not the change's doing. One it cannot judge (groups
    // not known) admits the runner, which is logged in: the change is.
    if (before.refused) return {};
    // With every method off, the responsible line is the one that turned off a method that was on.
    const turnedOff = before.enabled?.find((m) => after.disabledBy?.has(m));
    const origin = turnedOff && after.disabledBy ? after.disabledBy.get(turnedOff) : after.refused.origin;
    return {
      refusal: {
        code: 'would-lock-out',
        message: `the planned config would refuse sshfix's own login (${who}, ${input.login.methods.join('/')}): ${after.refused.reason}; responsible: ${at(origin)}`,
        hint: 'keep a way in for the account sshfix connects as (or connect as another one) before tightening access',
      },
    };
  }
  if (after.unknown) {
    const before = judge(input.before, input.login, options);
    if (before.unknown?.reason === after.unknown.reason) return {};
    return { warning: `cannot tell whether the change locks out sshfix's own login (${who}): ${after.unknown.reason} (${at(after.unknown.origin)})` };
  }
  return {};
}
