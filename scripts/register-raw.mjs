// Lets node (the CLI) import `*.wgsl?raw` the way Vite does: the module's default export is the file text.
import { register } from 'node:module';
register('./raw-loader.mjs', import.meta.url);
