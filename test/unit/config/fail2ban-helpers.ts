/** Builds fail2ban layers from inline files (paths relative to /etc/fail2ban). */
import { buildFail2banLayers, type Fail2banLayers } from '../../../src/config/fail2ban/layers.js';

export const F2B = '/etc/fail2ban';

export function layersOf(files: Record<string, string>): Fail2banLayers {
  const map = new Map(Object.entries(files).map(([p, t]) => [`${F2B}/${p}`, t]));
  return buildFail2banLayers({ files: map, listedDirs: new Set([F2B, `${F2B}/jail.d`]) }, F2B).layers;
}
