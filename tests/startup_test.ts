/**
 * What every command loads before it runs: the pictures of `dsgen inspect` (pureimage, about
 * 15 ms of every start) are imported only when inspect draws them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { REPO_ROOT } from "./support/cli.ts";

interface ModuleGraph {
  roots: string[];
  redirects: Record<string, string>;
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
  }[];
}

async function moduleGraph(entry: string): Promise<ModuleGraph> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout)) as ModuleGraph;
}

/** The modules an entry loads before its first line runs: static imports, followed through. */
function staticallyLoaded(graph: ModuleGraph): Set<string> {
  const modules = new Map(graph.modules.map((module) => [module.specifier, module]));
  const resolve = (specifier: string) => graph.redirects[specifier] ?? specifier;
  const seen = new Set<string>();
  const pending = graph.roots.map(resolve);
  while (pending.length > 0) {
    const specifier = pending.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dependency of modules.get(specifier)?.dependencies ?? []) {
      if (dependency.isDynamic !== true && dependency.code !== undefined) {
        pending.push(resolve(dependency.code.specifier));
      }
    }
  }
  return seen;
}

Deno.test("dsgen starts without pureimage: inspect imports its pictures when it draws", async () => {
  const graph = await moduleGraph("main.ts");
  const loaded = [...staticallyLoaded(graph)];
  assert.ok(loaded.some((specifier) => specifier.endsWith("/src/cli/generate.ts")), "the walk");
  assert.deepEqual(
    loaded.filter((specifier) => /pureimage|\/report\/(grid|histograms)\.ts$/.test(specifier)),
    [],
  );
  // Not vacuous: the pictures are in the program, behind inspect's dynamic imports.
  const dynamic = graph.modules.flatMap((module) =>
    (module.dependencies ?? []).filter((dependency) => dependency.isDynamic === true)
      .map((dependency) => dependency.code?.specifier ?? "")
  );
  assert.ok(dynamic.some((specifier) => specifier.endsWith("/src/report/grid.ts")), "grid.ts");
  assert.ok(graph.modules.some((module) => module.specifier.includes("pureimage")), "pureimage");
});
