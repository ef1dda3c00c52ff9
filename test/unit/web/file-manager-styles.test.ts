import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Selector, transform } from 'lightningcss';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/package-tarball.js';

const STYLES = join(repoRoot, 'web/file-manager/file-manager.css');

/** Every selector and every at-rule of a stylesheet, as lightningcss parses it. */
function rulesOf(css: string) {
  const selectors: Selector[] = [];
  const atRules: string[] = [];
  transform({
    filename: 'styles.css',
    code: Buffer.from(css),
    visitor: {
      Rule(rule) {
        if (rule.type === 'style') selectors.push(...rule.value.selectors);
        else if (rule.type !== 'media' && rule.type !== 'supports') atRules.push(rule.type);
      },
    },
  });
  return { selectors, atRules };
}

/** The selector as written, for the failure message. */
const show = (selector: Selector) =>
  selector
    .map((c) => {
      if (c.type === 'class') return `.${c.name}`;
      if (c.type === 'type') return c.name;
      if (c.type === 'combinator') return ' ';
      if (c.type === 'pseudo-class') return `:${c.kind}`;
      return c.type === 'universal' ? '*' : `<${c.type}>`;
    })
    .join('');

/** Scoped: the first compound (before any combinator) carries the component's root class. */
function scoped(selector: Selector): boolean {
  const end = selector.findIndex((c) => c.type === 'combinator');
  const first = end < 0 ? selector : selector.slice(0, end);
  return first.some((c) => c.type === 'class' && c.name === 'sfm');
}

describe('the FileManager stylesheet', () => {
  it('scopes every rule under .sfm: nothing reaches html, body, * or bare elements of the page', async () => {
    // Prepare
    const { selectors, atRules } = rulesOf(await readFile(STYLES, 'utf8'));
    // Act
    const unscoped = selectors.filter((s) => !scoped(s)).map(show);
    // Assess
    expect(selectors.length).toBeGreaterThan(40);
    expect(unscoped).toEqual([]);
    expect(atRules).toEqual([]); // no @font-face, @keyframes or @import: their names are global
  });

  it('catches what a global rule looks like', () => {
    const { selectors } = rulesOf(
      'body { margin: 0 } * { box-sizing: border-box } button { color: red } :root { --x: 1 } ' +
        '.sfm-upload { color: red } html .sfm { color: red } .sfm button, .sfm:hover .sfm-x { color: red }',
    );
    expect(selectors.filter((s) => !scoped(s)).map(show)).toEqual([
      'body',
      '*',
      'button',
      ':root',
      '.sfm-upload',
      'html .sfm',
    ]);
  });

  it('themes through custom properties that each fall back to a default', async () => {
    const css = await readFile(STYLES, 'utf8');
    const used = new Set(Array.from(css.matchAll(/var\((--sfm-[a-z-]+),/g), (m) => m[1]));
    const readme = await readFile(join(repoRoot, 'web/file-manager/README.md'), 'utf8');
    const documented = new Set(Array.from(readme.matchAll(/`(--sfm-[a-z-]+)`/g), (m) => m[1]));
    // Every var() has a fallback (no bare `var(--sfm-x)`), and the README lists exactly those used.
    expect(css.match(/var\(--sfm-[a-z-]+\)/g)).toBeNull();
    expect([...documented].sort()).toEqual([...used].sort());
    expect(used.size).toBeGreaterThanOrEqual(15);
  });
});
