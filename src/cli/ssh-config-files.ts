/**
 * The I/O half of honouring the runner user's ssh_config: reads the file and what it includes
 * from disk, then lets the pure resolver and mapping (src/config/ssh-config/resolve.ts,
 * src/model/ssh-config-connection.ts) fill in each host's settings the inventory leaves open.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { matchComponent } from '../config/openssh/snapshot-glob.js';
import { resolveSshHostConfig, type SshConfigSource } from '../config/ssh-config/resolve.js';
import type { Inventory } from '../model/inventory.js';
import { applySshConfig } from '../model/ssh-config-connection.js';
import type { Diagnostic } from '../util/diagnostics.js';

/** glob(3) over the disk for absolute patterns: wildcards in any component, results sorted. */
function globDisk(pattern: string): string[] {
  let paths = [''];
  for (const part of pattern.split('/').slice(1)) {
    const next: string[] = [];
    for (const base of paths) {
      if (!/[*?[]/.test(part)) next.push(`${base}/${part}`);
      else {
        let names: string[] = [];
        try {
          names = readdirSync(base || '/');
        } catch {
          continue;
        }
        for (const name of names.sort()) if (matchComponent(name, part)) next.push(`${base}/${name}`);
      }
    }
    paths = next;
  }
  return paths.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

const diskSource: SshConfigSource = {
  read(path) {
    try {
      return statSync(path).isFile() ? readFileSync(path, 'utf8') : undefined;
    } catch {
      return undefined;
    }
  },
  glob: globDisk,
};

/** `source` reading each file and each glob once: every host of an inventory names the same ssh_config. */
function readOnce(source: SshConfigSource): SshConfigSource {
  const texts = new Map<string, string | undefined>();
  const globs = new Map<string, string[]>();
  return {
    read(path) {
      if (!texts.has(path)) texts.set(path, source.read(path));
      return texts.get(path);
    },
    glob(pattern) {
      let paths = globs.get(pattern);
      if (paths === undefined) globs.set(pattern, (paths = source.glob(pattern)));
      return [...paths];
    },
  };
}

/** The inventory with each host's ssh_config applied; warnings for what ssh_config says that sshfix cannot follow. */
export function honourSshConfig(inventory: Inventory, options: { homeDir: string; localUser: string; source?: SshConfigSource }): { inventory: Inventory; diagnostics: Diagnostic[] } {
  const source = readOnce(options.source ?? diskSource);
  const diagnostics: Diagnostic[] = [];
  const hostNames = new Set(inventory.hosts.map((h) => h.name));
  const seen = new Set<string>();
  const hosts = inventory.hosts.map((host) => {
    if (host.sshConfig === undefined || source.read(host.sshConfig) === undefined) return host;
    const resolved = resolveSshHostConfig(host.sshConfig, host.name, source, options);
    const applied = applySshConfig(host, resolved.values, { ...options, hostNames });
    for (const d of [...resolved.diagnostics, ...applied.diagnostics]) {
      const key = `${d.file}:${d.range?.start.line}:${d.message}`;
      if (!seen.has(key)) diagnostics.push({ ...d, severity: 'warning' });
      seen.add(key);
    }
    return applied.host;
  });
  return { inventory: { ...inventory, hosts }, diagnostics };
}
