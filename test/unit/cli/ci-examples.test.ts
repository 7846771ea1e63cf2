/**
 * The CI examples in examples/ci/ parse as YAML, and every sshfix command line in them is accepted
 * by sshfix's own argument parser (the CLI's commands with their actions replaced).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { buildProgram } from '../../../src/cli/program.js';

const EXAMPLES = join(fileURLToPath(new URL('../../../..', import.meta.url)), 'examples', 'ci');

/** Every string in a YAML document. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** The sshfix invocations of a shell snippet, with CI placeholders filled and redirections dropped. */
function sshfixCommands(script: string): string[][] {
  const out: string[][] = [];
  for (const raw of script.split('\n')) {
    const line = raw
      .replace(/\$\{\{\s*matrix\.shard\s*\}\}/g, '1')
      .replace(/\$CI_NODE_INDEX/g, '1')
      .replace(/\$CI_NODE_TOTAL/g, '4')
      .replace(/plan-\*\.json/g, 'plan-1.json plan-2.json');
    const at = line.search(/(^|\s)sshfix\s/);
    if (at < 0 || /npm install/.test(line)) continue;
    const command = line.slice(at).trim().split(/\s*(?:\|\||&&|;|>|\|)\s*/)[0] as string;
    out.push(command.split(/\s+/).slice(1));
  }
  return out;
}

async function parserOnly(): Promise<Command> {
  const program = await buildProgram();
  const neuter = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    if (cmd.commands.length === 0) cmd.action(() => undefined);
    cmd.commands.forEach(neuter);
  };
  neuter(program);
  return program;
}

describe('CI examples', () => {
  for (const file of ['github-actions.yml', 'gitlab-ci.yml']) {
    it(`${file}: YAML, and every sshfix command line parses`, async () => {
      const doc = parse(readFileSync(join(EXAMPLES, file), 'utf8')) as unknown;
      const commands = strings(doc).flatMap(sshfixCommands);
      assert.ok(commands.length >= 4, `found ${commands.length} sshfix commands`);
      for (const argv of commands) {
        const parser = await parserOnly();
        assert.doesNotThrow(() => parser.parse(argv, { from: 'user' }), `sshfix ${argv.join(' ')}`);
      }
      assert.ok(commands.some((c) => c.includes('--shard')), 'the drift check is sharded');
      assert.ok(commands.some((c) => c[0] === 'report' && c[1] === 'merge'), 'shards are merged');
    });
  }

  it('the parser check can fail: a bad option is refused', async () => {
    const forShard = await parserOnly();
    const forOption = await parserOnly();
    assert.throws(() => forShard.parse(['plan', '--shard', '5/4'], { from: 'user' }));
    assert.throws(() => forOption.parse(['plan', '--no-such-option'], { from: 'user' }));
  });
});
