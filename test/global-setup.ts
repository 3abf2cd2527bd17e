import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** CLI tests spawn dist/cli.js: build it once from the current sources before any test runs. */
export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
}
