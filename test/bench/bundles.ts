/**
 * What each deployable function ships, as Netlify's bundler builds it (zip-it-and-ship-it; functions
 * that declare their own config go through nft): the project's own source files traced into it, the
 * size of our code once bundled (functions/<name>.mjs), and the whole unzipped function. A function
 * should carry only the code it runs.
 */
import path from "node:path";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { zipFunctions } from "@netlify/zip-it-and-ship-it";

export interface BundleFigures {
  name: string;
  /** Project source files (relative paths) the bundler traced into the function. */
  ownFiles: string[];
  /** Our code as bundled: functions/<name>.mjs. */
  ownBytes: number;
  /** Everything the function ships, unzipped. */
  totalBytes: number;
}

export async function measureBundles(root: string): Promise<BundleFigures[]> {
  const out = await mkdtemp(path.join(tmpdir(), "sentinel-bundles-"));
  try {
    const built = await zipFunctions([path.join(root, "functions")], out, { archiveFormat: "none", basePath: root, repositoryRoot: root });
    const figures: BundleFigures[] = [];
    for (const f of built) {
      const ownFiles = (f.inputs ?? []).filter((p) => p.startsWith(root) && !p.includes("/node_modules/") && p.endsWith(".ts")).map((p) => path.relative(root, p)).sort();
      const dir = path.join(out, f.name);
      figures.push({ name: f.name, ownFiles, ownBytes: (await stat(path.join(dir, "functions", `${f.name}.mjs`))).size, totalBytes: await sizeOf(dir) });
    }
    return figures.sort((a, b) => a.name.localeCompare(b.name));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) total += (await stat(path.join(e.parentPath, e.name))).size;
  return total;
}

/** Files of probe implementations (not their definitions): what a function that runs no probe should not carry. */
export const probeImplementation = (file: string) => file.startsWith("shared/probes/") && !/(definition|catalog|types|settings)\.ts$/.test(file);

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await measureBundles(path.resolve(import.meta.dirname, "../.."))) {
    console.log(`${f.name.padEnd(24)} own ${String(f.ownFiles.length).padStart(3)} files, ${(f.ownBytes / 1024).toFixed(0).padStart(4)} KB bundled; probe code files ${String(f.ownFiles.filter(probeImplementation).length).padStart(3)}; whole function ${(f.totalBytes / 1024 / 1024).toFixed(2)} MB`);
  }
}
