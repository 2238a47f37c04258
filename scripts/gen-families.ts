// Writes the op-family registries from src/backends/op-families.ts (npm run gen:families).
import { writeFileSync } from 'node:fs';
import { renderRegistries } from '../src/backends/families-gen';

for (const { path, text } of renderRegistries()) {
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
