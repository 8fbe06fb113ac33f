// The engine scripts are real files (lib/database/engines/scripts/*.sh, executed by scripts.test.ts,
// the servers suite and the real node); the library carries their texts in a module generated from
// them by `npm run build` (tools/scripts/engine-scripts-module.js). Here: the module is that of the files.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ENGINE_SCRIPTS } from '../lib/database/engines/private/engine-scripts.generated';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const generator: { render(dir?: string): string; MODULE: string; SCRIPTS_DIR: string } = require('../tools/scripts/engine-scripts-module.js');

describe('the engine scripts module', () => {
  test('is what the generator writes from the scripts now (run `npm run build` after editing a script)', () => {
    expect(fs.readFileSync(generator.MODULE, 'utf-8')).toBe(generator.render());
  });

  test('holds every script, byte for byte, and nothing else', () => {
    const files = fs.readdirSync(generator.SCRIPTS_DIR).filter((f) => f.endsWith('.sh')).sort();
    expect(files.length).toBeGreaterThan(10);
    expect(Object.keys(ENGINE_SCRIPTS)).toEqual(files);
    for (const f of files) expect({ f, text: ENGINE_SCRIPTS[f] }).toEqual({ f, text: fs.readFileSync(path.join(generator.SCRIPTS_DIR, f), 'utf-8') });
  });

  test('the check sees a changed script', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-scripts-module-'));
    try {
      for (const f of fs.readdirSync(generator.SCRIPTS_DIR)) fs.copyFileSync(path.join(generator.SCRIPTS_DIR, f), path.join(dir, f));
      expect(generator.render(dir)).toBe(generator.render());
      fs.appendFileSync(path.join(dir, 'common.sh'), '# edited\n');
      expect(generator.render(dir)).not.toBe(generator.render());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('no awk program uses an interval expression such as {8}: the mawk of Debian 12, the official images\' base, matches it literally', () => {
    const found: string[] = [];
    for (const f of fs.readdirSync(generator.SCRIPTS_DIR).filter((n) => n.endsWith('.sh'))) {
      const text = fs.readFileSync(path.join(generator.SCRIPTS_DIR, f), 'utf-8');
      // each awk program is the single-quoted text after `awk` and its options
      for (const m of text.matchAll(/\bawk\b[^'\n]*'([^']*)'/g)) {
        if (/\{[0-9]+(,[0-9]*)?\}/.test(m[1])) found.push(`${f}: ${m[1].trim().split('\n')[0]}`);
      }
    }
    expect(found).toEqual([]);
    // the check sees one
    expect(/\{[0-9]+(,[0-9]*)?\}/.test("$0 ~ /^[0-9]{8}T/ { print }")).toBe(true);
  });
});
