/**
 * A host's files during planning: the bytes the facts read, decoded once to text, with each task's
 * edits layered on top. Pure.
 */
import type { FileSnapshot } from '../config/openssh/snapshot-glob.js';
import type { PlanFiles } from '../tasks/planner.js';
import type { HostFacts } from './facts.js';
import { decodeText, type TextEncoding } from '../util/text-encoding.js';

export class HostFiles implements PlanFiles {
  private readonly original = new Map<string, { text: string; encoding: TextEncoding }>();
  private readonly current = new Map<string, string>();
  private readonly listed: Set<string>;
  private readonly entries: ReadonlyMap<string, readonly string[]>;

  constructor(facts: HostFacts) {
    for (const [path, file] of facts.files) {
      const decoded = decodeText(file.content);
      this.original.set(path, decoded);
      this.current.set(path, decoded.text);
    }
    // A path known to be missing counts as an empty listed directory: globs under it match nothing.
    this.listed = new Set([...facts.dirs.keys(), ...facts.missing]);
    this.entries = facts.dirs;
  }

  read(path: string): string | undefined {
    return this.current.get(path);
  }

  originalText(path: string): string | undefined {
    return this.original.get(path)?.text;
  }

  encodingOf(path: string): TextEncoding {
    return this.original.get(path)?.encoding ?? 'utf8';
  }

  write(path: string, text: string): void {
    this.current.set(path, text);
  }

  /** Paths whose text differs from what was read (or that did not exist). */
  changedPaths(): string[] {
    return [...this.current.keys()].filter((p) => this.current.get(p) !== this.original.get(p)?.text).sort();
  }

  snapshot(): FileSnapshot {
    return { files: new Map(this.current), listedDirs: new Set(this.listed), entries: this.entries };
  }
}
