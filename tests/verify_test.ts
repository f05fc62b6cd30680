import assert from "node:assert/strict";
import { join } from "node:path";
import { RunError, UsageError } from "../src/cli/errors.ts";
import { runInspect } from "../src/cli/inspect.ts";
import { parseVerifyArgs, runVerify } from "../src/cli/verify.ts";
import { openVersion } from "../src/store/open_version.ts";
import { type VerifyStep, verifyVersion } from "../src/validate/verify_version.ts";
import { runCli } from "./support/cli.ts";
import {
  copyVersion,
  dataOffset,
  editMetadata,
  fixChecksum,
  flipByte,
  makeVersion,
  recordingConsole,
  rewriteArchive,
} from "./support/datasets.ts";

const AREA = 16 * 16;

let base: Promise<{ version: string; outputDir: string }> | undefined;
/** One 1000-image dataset (seed 42) shared by the tests; tests damage copies of it. */
function baseVersion(): Promise<string> {
  base ??= makeVersion({ numImages: 1000, seed: 42 });
  return base.then((made) => made.version);
}

async function damagedCopy(damage: (version: string) => Promise<void>): Promise<string> {
  const version = await copyVersion(await baseVersion());
  await damage(version);
  return version;
}

/** Verifies in-process; returns the steps (the last one failed, if any did). */
async function steps(version: string, samples = 100): Promise<VerifyStep[]> {
  return await verifyVersion(await openVersion(version), { samples, seed: 9 });
}

function failure(found: VerifyStep[]): VerifyStep {
  const failed = found.at(-1)!;
  assert.equal(failed.ok, false, `expected a failure, got ${JSON.stringify(found)}`);
  assert.ok(found.slice(0, -1).every((step) => step.ok));
  return failed;
}

Deno.test("verify passes a fresh version, printing each check, and exits 0", async () => {
  const version = await baseVersion();
  const result = await runCli(["verify", version, "--seed", "4"]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split("\n");
  assert.equal(lines[0], `Verifying ${version}`);
  assert.equal(lines[1], "Sample seed: 4");
  assert.deepEqual(
    lines.slice(2, 9).map((line) => line.split(/\s+/).slice(0, 2).join(" ")),
    [
      "ok metadata",
      "ok folder",
      "ok checksum",
      "ok arrays",
      "ok generator",
      "ok samples",
      "ok crc",
    ],
  );
  assert.match(
    result.stdout,
    /ok +samples +100 of 1000 images \(first, last and 98 drawn with seed 4\)/,
  );
  assert.match(result.stdout, /arrays +images \|u1 \(1000, 16, 16\), labels \|u1 \(1000,\)/);
  assert.match(lines.at(-1)!, /^Verified: v0001-\d{8}T\d{6}Z is intact \(7 checks passed\)$/);
  assert.equal(result.stderr, "");
});

Deno.test("verify ignores the inspection folder but not other files", async () => {
  const version = await copyVersion(await baseVersion());
  await runInspect({ path: version, samples: 4, seed: 1, quiet: true }, recordingConsole());
  assert.ok((await steps(version)).every((step) => step.ok));
  await Deno.writeTextFile(join(version, "notes.txt"), "mine\n");
  assert.equal(
    failure(await steps(version)).detail,
    "notes.txt is in the version folder but not listed in metadata.json",
  );
  await Deno.remove(join(version, "notes.txt"));
  await Deno.remove(join(version, "dataset.npz"));
  const missing = failure(await steps(version));
  assert.equal(missing.name, "folder");
  assert.match(missing.detail, /dataset\.npz is listed in metadata\.json but missing/);
});

Deno.test("a flipped byte in the images makes verify exit 1 naming the checksum", async () => {
  const version = await damagedCopy(async (version) => {
    await flipByte(
      join(version, "dataset.npz"),
      (await dataOffset(version, "images")) + 500 * AREA + 100,
    );
  });
  const result = await runCli(["verify", version, "--seed", "1"]);
  assert.equal(result.code, 1);
  assert.match(
    result.stdout,
    /^FAIL +checksum +dataset\.npz: SHA-256 checksum is [0-9a-f]{64} but/m,
  );
  assert.doesNotMatch(result.stdout, /ok +samples/);
  assert.match(
    result.stderr,
    /^dsgen: Verification failed at checksum: dataset\.npz: SHA-256 checksum is [0-9a-f]{64} but metadata\.json records [0-9a-f]{64}: the file was changed or corrupted\n$/,
  );
});

Deno.test("with the checksum fixed, a flipped byte is caught by the re-rendered samples, or by the CRC", async () => {
  // In image 0, which verify always re-renders.
  const first = await damagedCopy(async (version) => {
    await flipByte(
      join(version, "dataset.npz"),
      (await dataOffset(version, "images")) + 7 * 16 + 3,
    );
    await fixChecksum(version);
  });
  const sampled = failure(await steps(first));
  assert.equal(sampled.name, "samples");
  assert.match(
    sampled.detail,
    /^image #0 differs from its re-render at 1 of 256 pixels \(first at row 7, column 3: stored \d+, re-rendered \d+\)$/,
  );
  // In image 500, with only the first and last re-rendered: the CRC-32 still sees it.
  const unsampled = await damagedCopy(async (version) => {
    await flipByte(
      join(version, "dataset.npz"),
      (await dataOffset(version, "images")) + 500 * AREA,
    );
    await fixChecksum(version);
  });
  const crc = failure(await steps(unsampled, 2));
  assert.equal(crc.name, "crc");
  assert.match(crc.detail, /the CRC-32 of images\.npy is [0-9a-f]{8} but the archive records/);
});

Deno.test("a rewritten archive with valid CRCs is caught by the re-rendered samples", async () => {
  const version = await damagedCopy((version) =>
    rewriteArchive(version, (arrays) => {
      arrays.get("images")!.data.fill(0, 999 * AREA, 1000 * AREA);
    })
  );
  const found = failure(await steps(version, 2));
  assert.equal(found.name, "samples");
  assert.match(found.detail, /^image #999 differs from its re-render at \d+ of 256 pixels/);
  const latents = await damagedCopy((version) =>
    rewriteArchive(version, (arrays) => {
      const data = arrays.get("latents")!.data;
      data[0] = data[0]! ^ 1; // the lowest mantissa bit of image 0's scale
    })
  );
  assert.match(failure(await steps(latents, 2)).detail, /^latents of image #0 are \[/);
  const labels = await damagedCopy((version) =>
    rewriteArchive(version, (arrays) => {
      const data = arrays.get("labels")!.data;
      data[999] = (data[999]! + 1) % 3;
    })
  );
  assert.match(
    failure(await steps(labels, 2)).detail,
    /^label of image #999 is \d but re-renders as \d$/,
  );
});

Deno.test("metadata that lies about the seed, the arrays or the generator fails verify", async () => {
  const seed = await damagedCopy((version) =>
    editMetadata(version, (metadata) => void (metadata.seed = 43))
  );
  const seedFailure = failure(await steps(seed));
  assert.equal(seedFailure.name, "samples");
  assert.match(seedFailure.detail, /^image #0 differs from its re-render/);

  const shape = await damagedCopy((version) =>
    editMetadata(version, (metadata) => {
      metadata.arrays.find((array) => array.name === "latents")!.shape = [1000, 5];
    })
  );
  assert.equal(
    failure(await steps(shape)).detail,
    "latents.npy has dtype <f4 and shape (1000, 4) but metadata.json records <f4 and (1000, 5)",
  );

  const offset = await damagedCopy((version) =>
    editMetadata(version, (metadata) => {
      metadata.arrays.find((array) => array.name === "labels")!.offset! += 64;
    })
  );
  assert.match(
    failure(await steps(offset)).detail,
    /^labels\.npy's data starts at byte \d+ but metadata\.json records offset \d+$/,
  );

  const count = await damagedCopy((version) =>
    editMetadata(version, (metadata) => void (metadata.num_images = 999))
  );
  const countFailure = failure(await steps(count));
  assert.equal(countFailure.name, "metadata");
  assert.match(countFailure.detail, /images has shape \(1000, 16, 16\) but num_images 999/);

  const version = await damagedCopy((version) =>
    editMetadata(version, (metadata) => void (metadata.generator.version = "0.9.0"))
  );
  const versionFailure = failure(await steps(version));
  assert.equal(versionFailure.name, "generator");
  assert.match(
    versionFailure.detail,
    /^generator shapes is version 1\.0\.0 here but the dataset was made with version 0\.9\.0: re-rendered samples cannot be trusted/,
  );

  const parameters = await damagedCopy((version) =>
    editMetadata(version, (metadata) => void (metadata.generator.parameters.radius_fraction = 0.3))
  );
  assert.match(
    failure(await steps(parameters)).detail,
    /other parameters than recorded \(radius_fraction\)/,
  );

  const unknown = await damagedCopy((version) =>
    editMetadata(version, (metadata) => void (metadata.generator.name = "mnist"))
  );
  assert.match(
    failure(await steps(unknown)).detail,
    /^generator "mnist" is not installed \(installed: dsprites, scenes, shapes\)/,
  );
});

Deno.test("bad input gives one line and exit 1: truncated archive, missing path, bad metadata", async () => {
  const truncated = await damagedCopy(async (version) => {
    const path = join(version, "dataset.npz");
    await Deno.truncate(path, 200_000);
  });
  const cli = await runCli(["verify", truncated]);
  assert.equal(cli.code, 1);
  assert.match(
    cli.stderr,
    /^dsgen: Verification failed at checksum: dataset\.npz is 200000 bytes but metadata\.json records \d+: the file was changed, truncated or corrupted\n$/,
  );
  // Even with metadata.json agreeing, the archive itself says it is truncated.
  await fixChecksum(truncated);
  const arrays = failure(await steps(truncated));
  assert.equal(arrays.name, "arrays");
  assert.match(arrays.detail, /its zip end record is missing: the file is truncated/);

  const unparsable = await damagedCopy((version) =>
    Deno.writeTextFile(join(version, "metadata.json"), "{ not json")
  );
  const io = recordingConsole();
  await assert.rejects(runVerify({ path: unparsable, samples: 5 }, io), (error: Error) => {
    assert.ok(error instanceof RunError);
    assert.match(error.message, /^Cannot parse .*metadata\.json: /);
    assert.ok(!error.message.includes("\n"));
    return true;
  });
  await assert.rejects(
    runVerify({ path: "/nonexistent/shapes16", samples: 5 }, io),
    /^RunError: Cannot find \/nonexistent\/shapes16: expected a version or dataset folder$/,
  );
});

Deno.test("verify flags: bad values are usage errors (exit 2)", async () => {
  assert.deepEqual(parseVerifyArgs(["v", "--samples", "7", "--seed", "0"]), {
    path: "v",
    samples: 7,
    seed: 0,
  });
  assert.equal(parseVerifyArgs(["-h"]), "help");
  for (
    const [args, pattern] of [
      [["v", "--samples", "0"], /^Cannot use "--samples" value "0": expected an integer from 1/],
      [["v", "--seed", "x"], /^Cannot parse "--seed" value "x"/],
      [["v", "--fast"], /^Unknown flag "--fast" for "dsgen verify"/],
      [[], /^Missing PATH for "dsgen verify"/],
    ] as const
  ) {
    assert.throws(() => parseVerifyArgs(args), (error: Error) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, pattern);
      return true;
    });
  }
  const cli = await runCli(["verify", "x", "--samples", "many"]);
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /^dsgen: Cannot parse "--samples" value "many"/);
});
