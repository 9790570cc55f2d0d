/**
 * The README's API section names every runtime export of both entry points
 * (`rx-bloombits` and `rx-bloombits/node`), so a new export cannot go undocumented.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as main from '../../src/index.js';
import * as node from '../../src/node.js';

const README = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');

/** The text of the README from `### API` to the next `##` heading. */
function apiSection(markdown: string): string {
  const start = markdown.indexOf('\n### API\n');
  if (start < 0) throw new Error('README.md has no "### API" section');
  const end = markdown.slice(start + 1).search(/\n##? /);
  return end < 0 ? markdown.slice(start) : markdown.slice(start, start + 1 + end);
}

/** Identifiers written in code spans of `text` (`name`, `name(…)`, `Class.method(…)`, `a \| b`…). */
function mentioned(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, span] of text.matchAll(/`([^`]+)`/g))
    for (const [name] of span!.matchAll(/[A-Za-z_$][\w$]*/g)) names.add(name);
  return names;
}

const section = apiSection(README);
const documented = mentioned(section);

it.each([
  ['rx-bloombits', main],
  ['rx-bloombits/node', node],
])('every runtime export of %s is named in the README API section', (_entry, module) => {
  const exports = Object.keys(module).filter((name) => name !== 'default' && name !== '__esModule');
  expect(exports.length).toBeGreaterThan(20);
  expect(exports.filter((name) => !documented.has(name)).sort()).toEqual([]);
});

it('the extraction sees the API section and its code spans', () => {
  expect(documented.has('BloomIndex')).toBe(true);
  expect(section.length).toBeGreaterThan(500);
});
