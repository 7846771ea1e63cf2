/**
 * diagnose's reports: the JSON document of the diagnose contract and the human text. Pure.
 */
import type { DiagnosedHost } from '../engine/run-diagnose.js';

export function buildDiagnoseJson(hosts: readonly DiagnosedHost[]): Record<string, unknown> {
  return {
    format_version: 1,
    command: 'diagnose',
    summary: {
      hosts: hosts.length,
      with_causes: hosts.filter((h) => h.causes.length > 0).length,
      not_diagnosed: hosts.filter((h) => !h.evidenceRead && h.causes.length === 0 && h.probe.stage !== 'ok').length,
      causes: hosts.reduce((n, h) => n + h.causes.length, 0),
    },
    hosts: hosts.map((h) => ({
      name: h.name,
      address: h.address,
      // For `report merge`: a host with causes counts like a plan's changed host.
      status: h.causes.length > 0 ? 'changed' : !h.evidenceRead && h.probe.stage !== 'ok' ? 'unreachable' : 'ok',
      client: h.client,
      user: h.user,
      probe: {
        stage: h.probe.stage,
        message: h.probe.message,
        ...(h.probe.preBanner ? { pre_banner: h.probe.preBanner } : {}),
        ...(h.probe.closedBeforeBannerMs !== undefined ? { closed_before_banner_ms: h.probe.closedBeforeBannerMs } : {}),
      },
      causes: h.causes.map((c) => ({
        code: c.code,
        summary: c.summary,
        chain: c.chain,
        evidence: c.evidence.map((e) => ({ source: e.source, ...(e.line !== undefined ? { line: e.line } : {}), text: e.text, ...(e.time ? { time: e.time } : {}) })),
        fix: { ...(c.fix.playbook ? { playbook: c.fix.playbook } : {}), ...(c.fix.command ? { command: c.fix.command } : {}), ...(c.fix.note ? { note: c.fix.note } : {}) },
      })),
      ruled_out: h.ruledOut,
      ...(h.reach.length > 0 ? { reach: h.reach } : {}),
      ...(h.error ? { error: h.error } : {}),
    })),
  };
}

const STAGE_WORDS: Record<DiagnosedHost['probe']['stage'], string> = {
  tcp: 'stopped at the TCP connection',
  banner: 'accepted, then closed before the SSH banner',
  kex: 'stopped at key exchange',
  auth: 'stopped at authentication',
  session: 'logged in, but no command could run',
  ok: 'logged in and ran a command',
};

export function renderDiagnoseHuman(hosts: readonly DiagnosedHost[], options: { color: boolean }): string {
  const bold = (s: string): string => (options.color ? `\x1b[1m${s}\x1b[0m` : s);
  const red = (s: string): string => (options.color ? `\x1b[31m${s}\x1b[0m` : s);
  const green = (s: string): string => (options.color ? `\x1b[32m${s}\x1b[0m` : s);
  const out: string[] = [];
  for (const h of hosts) {
    out.push(bold(`${h.name} (${h.address})`) + ` — client ${h.client}, user ${h.user}`);
    out.push(`  probe: ${STAGE_WORDS[h.probe.stage]}${h.probe.stage === 'ok' ? '' : `: ${h.probe.message}`}`);
    if (h.error) out.push(`  ${red('incomplete')}: ${h.error.message}`);
    if (h.causes.length === 0) {
      out.push(`  ${green('no cause found')}${h.evidenceRead ? '' : ' (the host\'s own evidence could not be read)'}`);
    }
    for (const c of h.causes) {
      out.push(`  ${red(`cause ${c.code}`)}: ${c.summary}`);
      if (c.chain.length > 0) out.push(`    fed by: ${c.chain.join(', ')}`);
      for (const e of c.evidence) out.push(`    evidence: ${e.source}${e.line !== undefined ? `:${e.line}` : ''}  ${e.text}`);
      if (c.fix.command) out.push(`    fix: ${c.fix.command}`);
      if (c.fix.note) out.push(`    ${c.fix.command ? 'that is' : 'fix'}: ${c.fix.note}`);
    }
    if (h.ruledOut.length > 0) {
      out.push('  ruled out:');
      for (const r of h.ruledOut) out.push(`    - ${r}`);
    }
    for (const r of h.reach) out.push(`  to get in: ${r}`);
    out.push('');
  }
  const withCauses = hosts.filter((h) => h.causes.length > 0).length;
  out.push(`Diagnose: ${hosts.length} host(s): ${withCauses} with a cause found.`);
  return out.join('\n') + '\n';
}
