/** The YAML tree sshfix reads files into (yaml-tree.ts and yaml-plain-block.ts both build it). */
import type { Diagnostic, SourcePosition, SourceRange } from '../util/diagnostics.js';

/**
 * A YAML document as plain data with a source range on every node, independent of the YAML
 * library. Loaders validate and read this tree; `renderTask` substitutes variables into it and
 * keeps the ranges, so a value that goes wrong after substitution is still reported at the place
 * the user wrote it.
 */
export type YamlNode = YamlScalar | YamlMap | YamlSeq;

/** What a YAML 1.2 core-schema scalar holds. */
export type ScalarValue = string | number | boolean | null;

/** A scalar and where it is written. */
export interface YamlScalar {
  type: 'scalar';
  value: ScalarValue;
  /** The value as text: strings as they are, numbers and booleans as written in the file. */
  text: string;
  range: SourceRange;
  /**
   * Where the first character of `value` stands, when every character of a string value maps to
   * one source character on a single line (plain or quoted without escapes). Lets a diagnostic
   * point inside the string, e.g. at the bad term of `when: os.id == debian`.
   */
  valueStart?: SourcePosition;
}

/** A mapping entry; keys are always plain strings. */
export interface YamlPair {
  key: string;
  keyRange: SourceRange;
  value: YamlNode;
}

/** A mapping and where it is written. */
export interface YamlMap {
  type: 'map';
  /** In file order; a duplicated key keeps only its first occurrence (the duplicate is an error). */
  pairs: YamlPair[];
  range: SourceRange;
}

/** A list and where it is written. */
export interface YamlSeq {
  type: 'seq';
  items: YamlNode[];
  range: SourceRange;
}

/** A parsed file: its tree, and its syntax problems. */
export interface ParsedYaml {
  /** Undefined when the file is empty or too broken to read. */
  root?: YamlNode;
  diagnostics: Diagnostic[];
}
