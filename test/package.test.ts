// What `npm pack` puts in the tarball: the compiled library (the engine scripts inside it), its
// declarations, the jsii assembly, README, LICENSE and CHANGELOG; never tests, tools or an earlier tarball.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf-8'));

describe('the npm package', () => {
  const files: string[] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root, encoding: 'utf-8', stdio: ['ignore', 'pipe', 'ignore'],
  }))[0].files.map((f: { path: string }) => f.path);

  test('only the library, the assembly and the documents', () => {
    const allowed = /^(out\/jsii\/(lib|imports)\/.+\.(js|d\.ts)|bin\/[a-z0-9-]+\.js|\.jsii|package\.json|README\.md|LICENSE|CHANGELOG\.md)$/;
    expect(files.filter((f) => !allowed.test(f))).toEqual([]);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']) expect(files).toContain(f);
  });

  test('the engine scripts travel inside the compiled library (its generated module), not as files the library looks for', () => {
    expect(pkg.files.filter((f: string) => f.endsWith('.sh'))).toEqual([]);
    expect(pkg.scripts.build).toBe('node tools/scripts/engine-scripts-module.js && tsc');
    expect(pkg.scripts.prepack).toMatch(/^node tools\/scripts\/engine-scripts-module\.js && jsii /);
    const sources = path.join(root, 'lib');
    const readsFiles = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? readsFiles(path.join(dir, e.name)) : /\.ts$/.test(e.name) && /__dirname|readFileSync\(.*scripts/.test(fs.readFileSync(path.join(dir, e.name), 'utf-8')) ? [e.name] : []);
    expect(readsFiles(sources)).toEqual([]);
  });

  test('main and types point at what jsii compiles, which `files` ships', () => {
    const outDir = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.jsii.json'), 'utf-8')).compilerOptions.outDir;
    expect(pkg.main).toBe(`${outDir}/lib/index.js`);
    expect(pkg.types).toBe(`${outDir}/lib/index.d.ts`);
    expect(pkg.files).toEqual(expect.arrayContaining([`${outDir}/lib/**/*.js`, `${outDir}/lib/**/*.d.ts`, '.jsii']));
  });

  test('cdk8s, constructs and cdk8s-plus-27 are peer (and dev) dependencies, never dependencies', () => {
    expect(pkg.dependencies ?? {}).toEqual({});
    for (const name of ['cdk8s', 'constructs', 'cdk8s-plus-27']) {
      expect(pkg.peerDependencies[name]).toMatch(/^\^\d+\.\d+\.\d+$/);
      expect(pkg.devDependencies[name]).toBeDefined();
    }
  });

  test('LICENSE is the Apache-2.0 text package.json names', () => {
    expect(pkg.license).toBe('Apache-2.0');
    const text = fs.readFileSync(path.join(root, 'LICENSE'), 'utf-8');
    expect(text).toContain('Apache License\n                           Version 2.0, January 2004');
    expect(text).toContain('END OF TERMS AND CONDITIONS');
  });
});
