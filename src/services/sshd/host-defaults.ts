/**
 * A host's sshd defaults, from its own build's `sshd -T -f /dev/null` and `ssh -Q` lists when the
 * facts have them, else Debian 12's. Pure.
 */
import { DEBIAN_12_DEFAULTS, sshdDefaultsFromDump, type SshdDefaults } from '../../config/sshd/defaults.js';
import type { SshdAlgorithmFamily } from '../../config/sshd/keywords.js';
import type { SshdFacts } from './facts.js';

/** `ssh -Q` list names (as the fact script asked them) for each algorithm family. */
const QUERY_FOR_FAMILY: Partial<Record<SshdAlgorithmFamily, string>> = {
  kex: 'KexAlgorithms',
  cipher: 'Ciphers',
  mac: 'MACs',
  hostkey: 'HostKeyAlgorithms',
  pubkey: 'PubkeyAcceptedAlgorithms',
  sig: 'sig',
};

/**
 * Defaults per sshd build, keyed by everything they are made from. A fleet runs a few builds:
 * sharing one defaults object per build spares rebuilding it per host, and lets the caches keyed
 * by defaults (expanded algorithm lists, evaluations) serve every host of a build.
 */
const defaultsByBuild = new Map<string, SshdDefaults>();
const DEFAULTS_BY_BUILD_LIMIT = 32;

/** This host's sshd defaults: its own build's output when the facts have it, else Debian 12's. */
export function hostSshdDefaults(sshd: SshdFacts | undefined, opensshVersion: string | undefined): SshdDefaults {
  if (!sshd?.defaultsDump) return DEBIAN_12_DEFAULTS;
  const supported: Partial<Record<SshdAlgorithmFamily, readonly string[]>> = {};
  for (const [family, query] of Object.entries(QUERY_FOR_FAMILY) as [SshdAlgorithmFamily, string][]) {
    const list = sshd.supported[query];
    if (list && list.length > 0) supported[family] = list;
  }
  const version = opensshVersion ? opensshVersion.replace(/p\d+$/, '') : undefined;
  const key = JSON.stringify([sshd.defaultsDump, supported, version ?? null, sshd.release ?? null]);
  let defaults = defaultsByBuild.get(key);
  if (!defaults) {
    defaults = sshdDefaultsFromDump({
      emptyConfigDump: sshd.defaultsDump,
      supported,
      ...(version !== undefined ? { version } : {}),
      ...(sshd.release !== undefined ? { release: sshd.release } : {}),
    });
    if (defaultsByBuild.size >= DEFAULTS_BY_BUILD_LIMIT) defaultsByBuild.delete(defaultsByBuild.keys().next().value!);
    defaultsByBuild.set(key, defaults);
  }
  return defaults;
}
