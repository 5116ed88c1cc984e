// Where this package's documents are on disk, so `--help` can name a file the reader can open:
// `docs/` sits at the package root, two folders above src/cli in a checkout and three above
// dist/src/cli in an installed package (package.json "files" ships it).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The absolute path of `relative` (such as `docs/scaling.md`) in this package, or `relative` itself if it is not there. */
export function packageDoc(relative: string): string {
  for (const up of ['../../', '../../../']) {
    const path = fileURLToPath(new URL(`${up}${relative}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  return relative;
}
