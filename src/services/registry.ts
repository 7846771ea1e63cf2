/**
 * The services sshfix manages, by id. Adding a daemon: its folder under src/services/<id>/ (a
 * `Service`), one line in `ServiceTypes` and one in `SERVICES`. The engine loops over what a plan
 * touches and names none of them.
 */
import type { Fail2banFacts } from './fail2ban/facts.js';
import { fail2banService, type Fail2banContribution, type Fail2banPlan } from './fail2ban/service.js';
import type { Fail2banExpectation } from './fail2ban/verify.js';
import type { Service } from './service.js';
import type { SshdFacts } from './sshd/facts.js';
import { sshdService, type SshdContribution, type SshdPlan } from './sshd/service.js';
import type { SshdExpectation } from './sshd/verify.js';
import { sshClientService, type SshClientContribution, type SshClientPlan } from './ssh-client/service.js';
import type { SshClientFacts } from './ssh-client/facts.js';
import type { SshClientExpectation } from './ssh-client/verify.js';
import { sshguardService, type SshguardContribution, type SshguardExpectation, type SshguardPlan } from './sshguard/service.js';
import type { SshguardFacts } from './sshguard/facts.js';
import type { WrappersExpectation } from './tcp-wrappers/access.js';
import { tcpWrappersService, type TcpWrappersContribution, type TcpWrappersFacts, type TcpWrappersPlan } from './tcp-wrappers/service.js';

/** Each service's types, by id. */
export interface ServiceTypes {
  sshd: { facts: SshdFacts; plan: SshdPlan; expectation: SshdExpectation; contribution: SshdContribution };
  fail2ban: { facts: Fail2banFacts; plan: Fail2banPlan; expectation: Fail2banExpectation; contribution: Fail2banContribution };
  ssh_client: { facts: SshClientFacts; plan: SshClientPlan; expectation: SshClientExpectation; contribution: SshClientContribution };
  tcp_wrappers: { facts: TcpWrappersFacts; plan: TcpWrappersPlan; expectation: WrappersExpectation; contribution: TcpWrappersContribution };
  sshguard: { facts: SshguardFacts; plan: SshguardPlan; expectation: SshguardExpectation; contribution: SshguardContribution };
}

export type ServiceId = keyof ServiceTypes;

type ServiceOf<K extends ServiceId> = Service<ServiceTypes[K]['facts'], ServiceTypes[K]['plan'], ServiceTypes[K]['expectation'], ServiceTypes[K]['contribution']>;

export const SERVICES: { readonly [K in ServiceId]: ServiceOf<K> } = {
  sshd: sshdService,
  fail2ban: fail2banService,
  ssh_client: sshClientService,
  tcp_wrappers: tcpWrappersService,
  sshguard: sshguardService,
};

export const SERVICE_IDS = Object.keys(SERVICES) as ServiceId[];

/** A service as the engine handles it: by id, its data opaque. */
export type AnyService = Service<unknown, unknown, unknown, unknown>;

export function lookupService(id: string): AnyService | undefined {
  return Object.hasOwn(SERVICES, id) ? (SERVICES[id as ServiceId] as unknown as AnyService) : undefined;
}

/** The facts each service read on a host (only services its tasks need). */
export type ServiceFacts = { [K in ServiceId]?: ServiceTypes[K]['facts'] };

/** Each touched service's part of a host's plan. */
export type ServicePlans = { [K in ServiceId]?: ServiceTypes[K]['plan'] };

type Tagged<K extends ServiceId, T> = { service: K } & T;

/** A value a service must show after the change, tagged with the service that checks it. */
export type ServiceExpectation = { [K in ServiceId]: Tagged<K, ServiceTypes[K]['expectation']> }[ServiceId];

/** What a planner hands over: the same, before the engine names the task. */
export type PlannedExpectation = { [K in ServiceId]: Tagged<K, Omit<ServiceTypes[K]['expectation'], 'task'>> }[ServiceId];

/** What a task adds to a service's plan. */
export type ServiceContribution = { [K in ServiceId]: Tagged<K, ServiceTypes[K]['contribution']> }[ServiceId];
