import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTemplate, renderTemplate } from '../../../src/model/template.js';
import { createHostScope, createValidationScope, factValuesFrom, lookupVariable, parseCliVars } from '../../../src/model/variables.js';

const host = { name: 'web-01', address: '192.0.2.10', vars: { account: 'deploy', admins: ['alice', 'bob'], port: 22, nested: { a: { b: 'deep' } } } };
const scope = createHostScope({ host, facts: { 'runner.address': '198.51.100.7', 'openssh.version': '9.2p1', 'os.id': 'debian' } });

describe('{{ }} substitution', () => {
  it('splices scalars into text', () => {
    assert.deepEqual(renderTemplate('User {{ account }} Address {{runner.address}}', scope), { status: 'ok', value: 'User deploy Address 198.51.100.7' });
    assert.deepEqual(renderTemplate('{{ host.name }}:{{ port }}', scope), { status: 'ok', value: 'web-01:22' });
    assert.deepEqual(renderTemplate('no templates', scope), { status: 'ok', value: 'no templates' });
  });
  it('keeps the type when the string is one reference', () => {
    assert.deepEqual(renderTemplate('{{ admins }}', scope), { status: 'ok', value: ['alice', 'bob'] });
    assert.deepEqual(renderTemplate('{{ port }}', scope), { status: 'ok', value: 22 });
    assert.deepEqual(renderTemplate('{{ admins.1 }}', scope), { status: 'ok', value: 'bob' });
    assert.deepEqual(renderTemplate('{{ nested.a.b }}', scope), { status: 'ok', value: 'deep' });
  });
  it('refuses lists spliced into text', () => {
    const result = renderTemplate('x {{ admins }}', scope);
    assert.equal(result.status, 'error');
    assert.equal(result.status === 'error' && result.errors[0]!.code, 'template-non-scalar');
  });
  it('reports undefined variables and facts with their span and a suggestion', () => {
    const result = renderTemplate('a {{ acount }}', scope);
    assert.ok(result.status === 'error');
    assert.deepEqual({ ...result.errors[0], message: undefined }, {
      code: 'undefined-variable', message: undefined, hint: 'did you mean "account"?', from: 2, to: 14,
    });
    const fact = renderTemplate('{{ os.version }}', scope);
    assert.ok(fact.status === 'error' && fact.errors[0]!.code === 'undefined-variable');
    const index = renderTemplate('{{ admins.5 }}', scope);
    assert.ok(index.status === 'error');
  });
  it('is pending for facts before connecting, and only for facts', () => {
    const validation = createValidationScope({ host });
    assert.deepEqual(renderTemplate('{{ runner.address }}', validation), { status: 'pending' });
    assert.deepEqual(renderTemplate('{{ host.address }}', validation), { status: 'ok', value: '192.0.2.10' });
    assert.equal(renderTemplate('{{ runner.address }} {{ missing }}', validation).status, 'error');
  });
  it('has no filters, expressions or unclosed braces', () => {
    for (const text of ['{{ a | default(1) }}', '{{ a + 1 }}', '{{ }}', '{{ a', '{{ "x" }}']) {
      const { errors } = parseTemplate(text);
      assert.equal(errors.length, 1, text);
      assert.equal(errors[0]!.code, 'bad-template');
    }
  });
});

describe('variables', () => {
  it('applies playbook vars < host vars (inventory, group, host merged) < --var', () => {
    const s = createHostScope({
      host: { name: 'h', address: 'h', vars: { a: 'host', b: 'host' } },
      playVars: { a: 'play', b: 'play', c: 'play' },
      cliVars: { b: 'cli' },
    });
    assert.deepEqual(s.vars, { a: 'host', b: 'cli', c: 'play' });
  });
  it('keeps facts apart from variables', () => {
    const s = createHostScope({ host: { name: 'h', address: '10.0.0.1', vars: {} } });
    assert.deepEqual(lookupVariable(s, ['host', 'address']), { status: 'found', value: '10.0.0.1' });
    assert.equal(lookupVariable(s, ['runner', 'address']).status, 'undefined');
  });
  it('parses --var with simple types', () => {
    const { vars, diagnostics } = parseCliVars(['a=true', 'b=60', 'c=9.0', 'd=100:30:500', 'e=[x, y]', 'f=', 'g=a=b']);
    assert.deepEqual(vars, { a: true, b: 60, c: '9.0', d: '100:30:500', e: ['x', 'y'], f: '', g: 'a=b' });
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(parseCliVars(['noequals', '1x=2', 'os=debian', 'x={{ y }}']).diagnostics.map((d) => d.code), [
      'bad-cli-var', 'bad-cli-var', 'reserved-variable', 'template-in-vars',
    ]);
  });
});

describe('facts from fact gathering', () => {
  it('maps the engine\'s facts onto fact names', () => {
    assert.deepEqual(factValuesFrom({ runnerAddress: '192.0.2.7', opensshVersion: '9.2p1', os: { id: 'debian', versionId: '12' } }), {
      'runner.address': '192.0.2.7', 'openssh.version': '9.2p1', 'os.id': 'debian', 'os.version_id': '12',
    });
    assert.deepEqual(factValuesFrom({}), {});
  });
});
