import type { Diagnostic } from '../util/diagnostics.js';
import type { ObjectSpec } from '../lang/spec.js';
import type { YamlNode } from '../lang/yaml-tree.js';

/** What `readParams` needs besides the node. */
export interface TaskParamContext {
  file: string;
  /** Diagnostics are appended here. */
  diagnostics: Diagnostic[];
  /**
   * True while validating before connecting: strings holding `{{ }}` are not final, so checks of
   * their value wait for `renderTask`.
   */
  templatesPending: boolean;
  /** The target's OpenSSH version ("9.2p1"), once facts are known. */
  opensshVersion?: string;
}

/** One task kind: its parameter shape and the reader that types them. Planners live beside it (plan.ts). */
export interface TaskKind<Params> {
  /** The key that selects the kind in a task, e.g. `sshd`. */
  readonly name: string;
  /** One line for docs and the JSON Schema. */
  readonly summary: string;
  /** Read-only kinds only check (compliance runs); they never change a file. */
  readonly readOnly: boolean;
  /** The parameters' shape; scalar positions may hold `{{ }}` substitutions. */
  readonly params: ObjectSpec;
  /**
   * Typed parameters from a node that already passed `checkShape(node, params)`; appends
   * semantic problems to `ctx.diagnostics` and returns undefined when there are any errors.
   * Pure and total: never throws on user input.
   */
  readParams(node: YamlNode, ctx: TaskParamContext): Params | undefined;
}
