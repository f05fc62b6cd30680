// A family gets every check of `dsgen inspect` from its own file and the registry: the test
// family `stripes` (tests/support/stripes_family.ts) is registered at run time, and no file of
// src/validate/ knows it.
import assert from "node:assert/strict";
import { generators } from "../src/generators/registry.ts";
import { generateDataset } from "../src/run/generate_dataset.ts";
import { openVersion } from "../src/store/open_version.ts";
import { inspectVersion } from "../src/validate/inspect_version.ts";
import { stripesFamily } from "./support/stripes_family.ts";

generators.register(stripesFamily);

async function inspectStripes(options: { shift: number }) {
  const dir = await Deno.makeTempDir();
  try {
    const { path } = await generateDataset(
      {
        family: { name: "stripes", options },
        seed: 1,
        numImages: 400,
        imageSize: 16,
        dtype: "uint8",
      },
      dir,
      { name: "stripes", workers: 1 },
    );
    const { report } = await inspectVersion(await openVersion(path), { samples: 4, seed: 1 });
    return {
      report,
      verdicts: Object.fromEntries(report.checks.map((check) => [check.name, check.verdict])),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a family registered from its own file gets every inspect check, and passes them", async () => {
  const { report, verdicts } = await inspectStripes({ shift: 0 });
  assert.deepEqual(verdicts, {
    classes: "pass",
    latents: "pass",
    blank: "pass",
    saturated: "pass",
    cut: "pass",
    duplicates: "pass",
    intensity: "pass",
  });
  // Each check used what the family declares: its shape extent, its grids, its duplicates.
  assert.equal(report.cut.checked, true);
  assert.deepEqual(report.latents.map((latent) => latent.declared?.min), [0.125, 0.3]);
  assert.equal(report.duplicates.count, 400 - 20);
});

Deno.test("the family's shape extent finds its stripes cut by the frame", async () => {
  const { report, verdicts } = await inspectStripes({ shift: 0.25 });
  assert.equal(verdicts.cut, "fail");
  // Shifted by a quarter of the side, the stripes at position 0.7 leave the frame: 1 in 5.
  assert.equal(report.cut.count, 400 / 5);
  assert.equal(verdicts.latents, "pass");
});
