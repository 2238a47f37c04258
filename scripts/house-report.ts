// Prints the house rules' figures for src/: files over 600 lines, functions over 120 lines.
import { houseReport } from '../src/test/house';

const r = houseReport('src');
for (const f of r.longFiles) console.log(`file ${f.path}: ${f.lines} lines`);
for (const f of r.longFunctions) console.log(`function ${f.path}:${f.line} ${f.name}: ${f.lines} lines`);
