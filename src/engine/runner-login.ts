/**
 * sshfix's own login to a host, from the inventory's connection settings and the host's facts:
 * what lockout prediction judges the planned config against.
 */
import type { HostFacts } from './facts.js';
import { loginMethods } from '../model/connect-target.js';
import type { ConnectionSettings } from '../model/inventory.js';
import type { RunnerLogin } from '../tasks/planner.js';

/** The settings that say who logs in and how. */
export type LoginSettings = Partial<Pick<ConnectionSettings, 'user' | 'port' | 'identityFile' | 'agent' | 'passwordEnv'>>;

/** Undefined without an account (a host given by name only, as in some tests): nothing to judge. */
export function runnerLoginFor(settings: LoginSettings, facts: HostFacts): RunnerLogin | undefined {
  if (settings.user === undefined) return undefined;
  return {
    user: settings.user,
    methods: loginMethods(settings),
    ...(facts.runnerAddress ? { address: facts.runnerAddress } : {}),
    ...(settings.port !== undefined ? { port: settings.port } : {}),
    ...(facts.loginGroups ? { groups: facts.loginGroups } : {}),
  };
}
