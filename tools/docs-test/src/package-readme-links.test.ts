import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGES = fileURLToPath(new URL('../../../packages/', import.meta.url));

// A package README is shown on npm, where a relative link points nowhere: links must be absolute
// (https://…) or anchors on the same page.
describe('package READMEs, as npm shows them', () => {
  it('link only to absolute URLs or to anchors on the page', async () => {
    const relative: string[] = [];
    const names = await readdir(PACKAGES);
    expect(names).toContain('core');
    for (const name of names) {
      const text = await readFile(join(PACKAGES, name, 'README.md'), 'utf8').catch(() => '');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1] ?? '';
        if (!/^(https?:|mailto:|#)/.test(target)) relative.push(`packages/${name}/README.md: ${target}`);
      }
    }
    expect(relative).toEqual([]);
  });
});
