import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The built CLI with its output piped into a reader that goes away early, as `| head` does.
 * Nothing here leaves loopback: the one plan connects to 127.0.0.1 port 1, which refuses.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(ROOT, 'build/src/cli/main.js');
const { SSHFIX_INVENTORY: _ignored, ...baseEnv } = process.env;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  read: number;
}

/**
 * Runs sshfix and closes the read end of its stdout after `readBytes` bytes (0: before it
 * writes anything), the way `head -c N` does.
 */
function runClosingEarly(args: readonly string[], readBytes: number): Promise<Ended> {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env: { ...baseEnv, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let read = 0;
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  if (readBytes === 0) child.stdout.destroy();
  else {
    child.stdout.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read >= readBytes) child.stdout.destroy();
    });
  }
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr, read }));
  });
}

const scratch = mkdtempSync(join(tmpdir(), 'sshfix-closed-output-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function assertQuiet(run: Ended): void {
  assert.equal(run.signal, null);
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /EPIPE|internal error|\n\s+at /);
}

describe('a reader that closes early ends sshfix quietly with exit 0', () => {
  it('inventory -i inventory.example.yaml, stdout closed before the first write', async () => {
    const run = await runClosingEarly(['inventory', '-i', 'inventory.example.yaml'], 0);
    assertQuiet(run);
    assert.equal(run.stderr, '');
  });

  it('inventory of 3000 hosts, stdout closed after the first lines (head -2)', async () => {
    const hosts = Array.from({ length: 3000 }, (_, i) => `  web-${i}.example.net: {}\n`).join('');
    const file = join(scratch, 'inventory.yaml');
    writeFileSync(file, `defaults: { identity_file: id }\nhosts:\n${hosts}`);
    const run = await runClosingEarly(['inventory', '-i', file], 40);
    assert.ok(run.read >= 40);
    assertQuiet(run);
  });

  it('plan --format json, stdout closed (head -c 10)', async () => {
    const inventory = join(scratch, 'loopback.yaml');
    writeFileSync(inventory, 'defaults:\n  identity_file: /nonexistent/id\n  port: 1\n  connect_timeout: 2s\nhosts:\n  local-1: { address: 127.0.0.1 }\n');
    const run = await runClosingEarly(['plan', '--format', 'json', '-i', inventory, 'playbooks/max-startups.yaml'], 0);
    assertQuiet(run);
  });

  it('a closed stderr does not crash either', async () => {
    const child = spawn(process.execPath, [MAIN, 'validate', '-i', join(scratch, 'missing.yaml')], { cwd: ROOT, env: baseEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.destroy();
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    // The inventory is missing: exit 1 as usual, not a crash from writing the diagnostics.
    assert.equal(signal, null);
    assert.equal(code, 1);
    assert.equal(stdout, '');
  });
});
