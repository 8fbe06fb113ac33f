import * as fs from 'fs';
import * as path from 'path';
import { FIELD_RENAMES } from '../lib/render';

test('FIELD_RENAMES is exactly the renames the generated converters in imports/k8s.ts make', () => {
  const source = fs.readFileSync(path.join(__dirname, '..', 'imports', 'k8s.ts'), 'utf-8');
  const renames: { [ts: string]: string } = {};
  for (const [, json, ts] of source.matchAll(/'([A-Za-z0-9]+)': obj\.([A-Za-z0-9]+)/g)) {
    if (json !== ts) renames[ts] = json;
  }
  expect(renames).toEqual(FIELD_RENAMES);
});
