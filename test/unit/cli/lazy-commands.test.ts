/** A command line that names a command loads only that one, and sees the same help and errors as with every command loaded. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../../src/cli/program.js';

const argvFor = (...args: string[]): string[] => ['node', 'sshfix', ...args];

/** The help of a command and of every subcommand under it, by their path. */
function helpTexts(command: Command, path = command.name()): Map<string, string> {
  const texts = new Map([[path, command.helpInformation()]]);
  for (const sub of command.commands) for (const [p, text] of helpTexts(sub, `${path} ${sub.name()}`)) texts.set(p, text);
  return texts;
}

/** What parsing `args` writes to stderr and the error it ends with. */
async function parseError(program: Command, args: string[]): Promise<{ stderr: string; code: string }> {
  let stderr = '';
  const quiet = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeErr: (text) => (stderr += text), writeOut: () => undefined });
    cmd.commands.forEach(quiet);
  };
  quiet(program);
  try {
    await program.parseAsync(argvFor(...args));
  } catch (error) {
    return { stderr, code: (error as { code: string }).code };
  }
  assert.fail(`sshfix ${args.join(' ')} was accepted`);
}

describe('commands loaded on demand', async () => {
  const full = await buildProgram();
  const names = full.commands.map((c) => c.name());

  it('the whole tree lists every command, as help shows them', () => {
    assert.deepEqual(names, ['plan', 'apply', 'diagnose', 'rollback', 'validate', 'inventory', 'report', 'lab']);
  });

  for (const name of names) {
    it(`${name}: only it is loaded, with the same help for it and its subcommands`, async () => {
      const single = await buildProgram(argvFor(name, '--help'));
      assert.deepEqual(single.commands.map((c) => c.name()), [name]);
      const expected = helpTexts(full.commands.find((c) => c.name() === name) as Command);
      assert.deepEqual(helpTexts(single.commands[0] as Command), expected);
    });
  }

  it('refuses a bad option or value with the same message as the whole tree', async () => {
    for (const args of [['plan', '--no-such-option'], ['plan', '--forks', 'many'], ['lab', 'up', '--hosts'], ['report', 'merge']]) {
      const lazy = await parseError(await buildProgram(argvFor(...args)), args);
      const whole = await parseError(await buildProgram(), args);
      assert.deepEqual(lazy, whole, args.join(' '));
      assert.match(lazy.stderr, /^error: /m);
    }
  });

  it('loads every command for a misspelt one, so that the error suggests the right name', async () => {
    const program = await buildProgram(argvFor('plna'));
    assert.equal(program.commands.length, names.length);
    const { stderr } = await parseError(program, ['plna']);
    assert.match(stderr, /unknown command 'plna'/);
    assert.match(stderr, /Did you mean plan\?/);
  });

  it('loads every command for the top-level help and the help command', async () => {
    for (const args of [['--help'], ['help', 'plan'], []]) {
      assert.equal((await buildProgram(argvFor(...args))).commands.length, names.length, args.join(' '));
    }
  });
});
