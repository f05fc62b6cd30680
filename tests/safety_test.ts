/**
 * A dataset never runs code: verify and merge start a program only when the user names it,
 * files that steer a run are refused when someone else could have written them, and every
 * field of metadata.json and plan.json is checked (one line, nothing touched). docs/safety.md.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { entriesOf, runCli } from "./support/cli.ts";
import { requireNumpy } from "./support/python.ts";
import { withTempDir } from "./support/folders.ts";
import { FAULTY, rendererGenerateArgs } from "./support/renderers.ts";
import { copyVersion, editMetadata, makeVersion } from "./support/datasets.ts";
import { untrustedReason } from "../src/store/trusted_file.ts";

/** Every path under a folder with its size, mode and modification time: what "touched" means. */
async function fingerprint(folder: string): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (path: string) => {
    const names = await entriesOf(path);
    for (const name of names) {
      const child = join(path, name);
      const info = await Deno.lstat(child);
      lines.push(`${child} ${info.size} ${info.mode} ${info.mtime?.getTime()}`);
      if (info.isDirectory) await walk(child);
    }
  };
  await walk(folder);
  return lines;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/** A version of 20 images drawn by the faulty renderer behaving (`ok`): its path. */
async function faultyVersion(out: string): Promise<string> {
  const run = await runCli(rendererGenerateArgs(out, `${FAULTY} ok`, ["--num-images", "20"]));
  assert.equal(run.code, 0, run.stderr);
  return run.stdout.trim();
}

Deno.test({
  name: "verify runs no command edited into metadata.json, says so, and exits 0 (1 --strict)",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_safety_test_", async (out) => {
      const version = await faultyVersion(out);
      const marker = join(out, "marker");
      const edited = ["python3", "-c", `open(${JSON.stringify(marker)}, "w")`];
      await editMetadata(version, (metadata) => void (metadata.spec!.family.command = edited));

      const plain = await runCli(["verify", version, "--seed", "1"]);
      assert.equal(plain.code, 0, plain.stdout + plain.stderr);
      assert.equal(await exists(marker), false, "the edited command ran");
      assert.match(plain.stdout, /^SKIPPED generator {2}not started: the command python3 -c /m);
      assert.match(plain.stdout, /^SKIPPED samples {4}not checked: /m);
      assert.match(
        plain.stdout,
        /to re-render: once you .* run: cd .* && dsgen verify .* --generator-cmd 'python3 -c /,
      );
      assert.match(plain.stdout, /^ok {6}crc /m);
      assert.match(plain.stdout, /Verified: .*: 5 checks passed, 2 SKIPPED/);

      const strict = await runCli(["verify", version, "--seed", "1", "--strict"]);
      assert.equal(strict.code, 1, strict.stdout + strict.stderr);
      assert.match(
        strict.stderr,
        /^dsgen: Verification failed at generator: not started: the command/,
      );
      assert.match(strict.stdout, /to re-render: once you /);
      assert.equal(await exists(marker), false);

      // The harmless-looking recorded label is never what is named: the argv is.
      const named = await runCli(["verify", version, "--seed", "1", "--generator-cmd", FAULTY]);
      assert.equal(named.code, 2, named.stdout + named.stderr);
      assert.equal(named.stderr.trimEnd().split("\n").length, 1, named.stderr);
      assert.match(
        named.stderr,
        /the command given is python3 tests\/renderers\/faulty\.py but the one recorded is python3 -c 'open\(/,
      );
      assert.equal(await exists(marker), false);
    });
  },
});

Deno.test({
  name: "verify --generator-cmd re-renders with the recorded command; another one exits 2",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_safety_test_", async (out) => {
      const version = await faultyVersion(out);
      const same = await runCli(["verify", version, "--generator-cmd", `${FAULTY} ok`, "--strict"]);
      assert.equal(same.code, 0, same.stdout + same.stderr);
      assert.match(
        same.stdout,
        /^ok {6}generator {2}renderer python3 tests\/renderers\/faulty\.py ok \(run in /m,
      );
      assert.match(same.stdout, /re-rendered byte-identical/);

      const other = await runCli([
        "verify",
        version,
        "--generator-cmd",
        `${FAULTY}  nondeterministic`,
      ]);
      assert.equal(other.code, 2);
      assert.equal(other.stdout, "");
      assert.match(
        other.stderr,
        /^dsgen: Cannot use "--generator-cmd" value ".*" for .*: the command given is python3 tests\/renderers\/faulty\.py nondeterministic but the one recorded is python3 tests\/renderers\/faulty\.py ok, expected exactly the recorded one\n$/,
      );
    });
  },
});

Deno.test("verify --generator-cmd on a version of dsgen's own family exits 2", async () => {
  const { version } = await makeVersion({ numImages: 20, seed: 1 });
  const run = await runCli(["verify", version, "--generator-cmd", "python3 x.py"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /the command given is python3 x\.py but the version names no program/);
});

Deno.test({
  name:
    "a merge of an external renderer's run starts no process; a slice must name the same command",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_safety_test_", async (out) => {
      const marker = join(out, "started");
      // Writes a marker each time it starts, then renders.
      const command = `sh -c "echo x >> ${marker}; exec ${FAULTY} ok"`;
      const slice = (index: string, cmd = command) =>
        runCli(rendererGenerateArgs(out, cmd, [
          "--num-images",
          "40",
          "--name",
          "sharded",
          "--shards",
          "2",
          "--shard-index",
          index,
          "--run-id",
          "r",
        ]));
      assert.equal((await slice("1")).code, 0);
      // A slice started with another command is refused (exit 2), naming both.
      const other = await slice("0", `${FAULTY} ok`);
      assert.equal(other.code, 2, other.stderr);
      assert.match(
        other.stderr,
        /^dsgen: Cannot join run "r": "--generator-cmd" differs .*: this slice runs python3 tests\/renderers\/faulty\.py ok \(run in .*\) but the plan names sh -c 'echo x >> .*; exec python3 tests\/renderers\/faulty\.py ok' \(run in /,
      );
      // Hold the merge, so that the last slice leaves it to `dsgen merge`.
      const runFolder = join(out, "sharded", ".run-r");
      await Deno.mkdir(join(runFolder, "merge.lock"));
      assert.equal((await slice("0")).code, 0);
      await Deno.remove(join(runFolder, "merge.lock"));
      await Deno.remove(marker);

      const merge = await runCli(["merge", join(out, "sharded"), "--run-id", "r", "--quiet"]);
      assert.equal(merge.code, 0, merge.stderr);
      assert.equal(await exists(marker), false, "the merge started the renderer");
      const version = merge.stdout.trim();
      const metadata = JSON.parse(await Deno.readTextFile(join(version, "metadata.json")));
      assert.equal(metadata.generator.name, "faulty");
      assert.deepEqual(metadata.renderer.declared.classes, ["a", "b"]);
      const verify = await runCli(["verify", version, "--generator-cmd", command, "--strict"]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    });
  },
});

/** Slice `index` of a run of 20 images in 2 slices, run id `r`, dataset `d`. */
function slice(out: string, index: number) {
  return runCli([
    "generate",
    "--num-images",
    "20",
    "--seed",
    "1",
    "--output-dir",
    out,
    "--name",
    "d",
    "--shards",
    "2",
    "--shard-index",
    String(index),
    "--run-id",
    "r",
    "--yes",
    "--quiet",
  ]);
}

/** A run of 2 slices with its first slice done: the run folder. */
async function halfRun(out: string): Promise<string> {
  const run = await slice(out, 0);
  assert.equal(run.code, 0, run.stderr);
  return join(out, "d", ".run-r");
}

async function secondSlice(out: string) {
  return await slice(out, 1);
}

Deno.test("a plan.json others can write is refused by the next slice and by merge", async () => {
  await withTempDir("dsgen_safety_test_", async (out) => {
    const folder = await halfRun(out);
    const plan = join(folder, "plan.json");
    assert.equal((await Deno.stat(plan)).mode! & 0o777, 0o644);
    assert.equal((await Deno.stat(folder)).mode! & 0o777, 0o755);
    await Deno.chmod(plan, 0o646);
    const before = await fingerprint(out);
    for (
      const run of [
        await secondSlice(out),
        await runCli(["merge", join(out, "d"), "--run-id", "r"]),
      ]
    ) {
      assert.equal(run.code, 1, run.stderr);
      assert.equal(
        run.stderr,
        `dsgen: Cannot trust ${plan}: others can write it (mode 0646); a file that steers a run ` +
          `must be writable by its owner only: chmod go-w ${plan}\n`,
      );
    }
    assert.deepEqual(await fingerprint(out), before);
  });
});

Deno.test("a run folder group members can write is refused", async () => {
  await withTempDir("dsgen_safety_test_", async (out) => {
    const folder = await halfRun(out);
    await Deno.chmod(folder, 0o775);
    const run = await secondSlice(out);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^dsgen: Cannot trust .*\.run-r: group members can write it \(mode 0775\)/,
    );
  });
});

Deno.test({
  name: "a plan.json or slice record another user owns is refused (root trusts only root's)",
  ignore: Deno.build.os === "windows",
  async fn() {
    await withTempDir("dsgen_safety_test_", async (out) => {
      const folder = await halfRun(out);
      const plan = join(folder, "plan.json");
      const me = Deno.uid()!;
      // Mine: trusted by me, refused for anyone else (unless I am root: root's is everyone's).
      assert.equal(await untrustedReason(plan, { uid: me }), undefined);
      const forOther = await untrustedReason(plan, { uid: me + 1 });
      if (me === 0) assert.equal(forOther, undefined);
      else assert.match(forOther!, new RegExp(`is owned by user id ${me}, not by you`));
      if (me !== 0) return; // Only root can give a file away.

      await Deno.chown(plan, 65534, 65534);
      assert.equal(await untrustedReason(plan, { uid: 65534 }), undefined);
      const before = await fingerprint(out);
      const slice = await secondSlice(out);
      assert.equal(slice.code, 1, slice.stderr);
      assert.equal(
        slice.stderr,
        `dsgen: Cannot trust ${plan}: the file is owned by user id 65534, not by you (user id ` +
          `0) or root; only the user who started a run may steer it (see docs/safety.md)\n`,
      );
      assert.deepEqual(await fingerprint(out), before);

      // A slice record given away after the run completed: the merge refuses it.
      await Deno.chown(plan, 0, 0);
      await Deno.mkdir(join(folder, "merge.lock"));
      assert.equal((await secondSlice(out)).code, 0);
      await Deno.remove(join(folder, "merge.lock"));
      const record = join(folder, "slice-00001-of-00002.json");
      await Deno.chown(record, 65534, 65534);
      const merge = await runCli(["merge", join(out, "d"), "--run-id", "r"]);
      assert.equal(merge.code, 1);
      assert.match(merge.stderr, new RegExp(`^dsgen: Cannot trust ${record}: the file is owned`));
      assert.deepEqual(await entriesOf(join(out, "d")), [".run-r"]);
    });
  },
});

/** Rewrites a JSON file through `edit` of its parsed value, keeping its mode. */
async function editJson(path: string, edit: (value: Record<string, unknown>) => void) {
  const value = JSON.parse(await Deno.readTextFile(path));
  edit(value);
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2));
}

const METADATA_CASES: [string, (path: string) => Promise<void>, RegExp][] = [
  [
    "a count of 10^12",
    (path) => editJson(path, (m) => void (m.num_images = 1e12)),
    /num_images is 1000000000000, expected an integer from 1 to 1000000000$/,
  ],
  [
    "a file name with folders",
    (path) => editJson(path, (m) => void ((m.files as { name: string }[])[0]!.name = "../../x")),
    /files\[0\]\.name is "\.\.\/\.\.\/x", expected a plain name/,
  ],
  [
    "a shape that is no list",
    (path) => editJson(path, (m) => void ((m.arrays as { shape: unknown }[])[1]!.shape = "big")),
    /arrays\[1\]\.shape is "big", expected a list of 0 to 32 items$/,
  ],
  [
    "a negative seed",
    (path) => editJson(path, (m) => void (m.seed = -1)),
    /seed is -1, expected an integer from 0 to 4294967295$/,
  ],
  [
    "a command that is one string",
    (path) =>
      editJson(path, (m) => {
        (m.spec as { family: { command: unknown } }).family.command = "rm -rf ~";
      }),
    /spec\.family\.command is "rm -rf ~", expected a list of 1 to 1000 items$/,
  ],
  [
    "parameters that are a list",
    (path) =>
      editJson(path, (m) => void ((m.generator as { parameters: unknown }).parameters = [])),
    /generator\.parameters is \[\], expected a JSON object$/,
  ],
  [
    "text that is no JSON",
    (path) => Deno.writeTextFile(path, '{"seed": 42,'),
    /^dsgen: Cannot parse .*metadata\.json: /,
  ],
  [
    "a link to a file elsewhere",
    async (path) => {
      await Deno.remove(path);
      await Deno.symlink("/etc/hostname", path);
    },
    /metadata\.json: it is no regular file \(a link or a folder\)$/,
  ],
];

Deno.test("corrupted metadata.json: verify and inspect give one line, exit 1, touch nothing", async () => {
  const { version } = await makeVersion({ numImages: 1000, seed: 42 });
  for (const [what, corrupt, line] of METADATA_CASES) {
    const copy = await copyVersion(version);
    await corrupt(join(copy, "metadata.json"));
    const before = await fingerprint(join(copy, ".."));
    for (const command of ["verify", "inspect"]) {
      const run = await runCli([command, copy, "--seed", "1"]);
      assert.equal(run.code, 1, `${command}, ${what}: ${run.stderr}`);
      assert.equal(run.stderr.split("\n").length, 2, `${command}, ${what}: ${run.stderr}`);
      assert.match(run.stderr.trimEnd(), line, `${command}, ${what}`);
      assert.deepEqual(await fingerprint(join(copy, "..")), before, `${command}, ${what}`);
    }
  }
});

Deno.test("inspect checks metadata.json against the archive's own headers", async () => {
  const { version } = await makeVersion({ numImages: 1000, seed: 42 });
  const copy = await copyVersion(version);
  // Consistent with itself (so verify's metadata step passes), not with the archive.
  await editMetadata(copy, (metadata) => {
    metadata.num_images = 5000;
    metadata.arrays.find((array) => array.name === "images")!.shape = [5000, 16, 16];
  });
  const before = await fingerprint(copy);
  const inspect = await runCli(["inspect", copy, "--seed", "1"]);
  assert.equal(inspect.code, 1);
  assert.equal(
    inspect.stderr,
    `dsgen: Cannot inspect ${copy}: metadata.json says num_images 5000 and image_size 16 but ` +
      "dataset.npz holds 1000 images of shape (16, 16)\n",
  );
  const verify = await runCli(["verify", copy, "--seed", "1"]);
  assert.equal(verify.code, 1);
  assert.match(verify.stderr, /images\.npy has dtype \|u1 and shape \(1000, 16, 16\) but/);
  assert.deepEqual(await fingerprint(copy), before);
});

const PLAN_CASES: [string, (plan: Record<string, unknown>) => void, RegExp][] = [
  ["no slices", (plan) => void (plan.shards = 0), /shards is 0, expected an integer from 1 to 20$/],
  [
    "a count that is no number",
    (plan) => void ((plan.spec as { numImages: unknown }).numImages = "many"),
    /spec\.numImages is "many", expected an integer from 1 to 1000000000$/,
  ],
  [
    "another run's id",
    (plan) => void (plan.run_id = "other"),
    /run_id is "other", expected one of r$/,
  ],
  [
    "a family module",
    (plan) => void ((plan.spec as { family: { module: string } }).family.module = "file:///x.js"),
    /spec\.family\.module is "file:\/\/\/x\.js", expected none: a run's plan names dsgen's own/,
  ],
  [
    "a command without its renderer's handshake",
    (plan) => void ((plan.spec as { family: { command: string[] } }).family.command = ["sh"]),
    /renderer is missing, expected a JSON object$/,
  ],
];

Deno.test("corrupted plan.json and slice records: merge gives one line, exit 1, touches nothing", async () => {
  await withTempDir("dsgen_safety_test_", async (out) => {
    const folder = await halfRun(out);
    await Deno.mkdir(join(folder, "merge.lock"));
    assert.equal((await secondSlice(out)).code, 0);
    await Deno.remove(join(folder, "merge.lock"));
    const plan = join(folder, "plan.json");
    const record = join(folder, "slice-00001-of-00002.json");
    const kept = { plan: await Deno.readTextFile(plan), record: await Deno.readTextFile(record) };
    const cases: [string, () => Promise<void>, RegExp][] = [
      ...PLAN_CASES.map(([what, edit, line]) =>
        [what, () => editJson(plan, edit), line] as [string, () => Promise<void>, RegExp]
      ),
      [
        "a slice record with other images",
        () => editJson(record, (value) => void (value.start_image = 3)),
        /slice-00001-of-00002\.json: start_image is 3, expected one of 10$/,
      ],
    ];
    for (const [what, corrupt, line] of cases) {
      await corrupt();
      const before = await fingerprint(out);
      const merge = await runCli(["merge", join(out, "d"), "--run-id", "r"]);
      assert.equal(merge.code, 1, `${what}: ${merge.stderr}`);
      assert.equal(merge.stderr.split("\n").length, 2, `${what}: ${merge.stderr}`);
      assert.match(merge.stderr.trimEnd(), line, what);
      assert.deepEqual(await fingerprint(out), before, what);
      await Deno.writeTextFile(plan, kept.plan);
      await Deno.writeTextFile(record, kept.record);
    }
    const merge = await runCli(["merge", join(out, "d"), "--run-id", "r", "--quiet"]);
    assert.equal(merge.code, 0, merge.stderr);
  });
});

Deno.test("a family module edited into metadata.json is imported by neither verify nor inspect", async () => {
  await withTempDir("dsgen_safety_test_", async (folder) => {
    const { version } = await makeVersion({ numImages: 50, seed: 3 });
    const copy = await copyVersion(version);
    const marker = join(folder, "imported");
    const module = join(folder, "evil.ts");
    await Deno.writeTextFile(module, `Deno.writeTextFileSync(${JSON.stringify(marker)}, "x");\n`);
    const url = new URL(`file://${module}`).href;
    await editMetadata(copy, (metadata) => void (metadata.spec!.family.module = url));
    const verify = await runCli(["verify", copy, "--seed", "1"]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /^SKIPPED generator {2}not started: the family module file:/m);
    assert.match(verify.stdout, /run: dsgen verify .* --generator-module file:/);
    const inspect = await runCli(["inspect", copy, "--seed", "1", "--quiet"]);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.equal(await exists(marker), false, "a module named in metadata.json was imported");
  });
});

Deno.test({
  name: "the library's verifyVersion: skipped steps, strict, and another program named",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_safety_test_", async (out) => {
      const { openVersion, verifyVersion } = await import("../mod.ts");
      const version = await openVersion(await faultyVersion(out));
      const plain = await verifyVersion(version, { seed: 1 });
      assert.deepEqual(
        plain.map((step) => `${step.name} ${step.ok} ${step.skipped ?? false}`),
        [
          "metadata true false",
          "folder true false",
          "checksum true false",
          "arrays true false",
          "generator true true",
          "samples true true",
          "crc true false",
        ],
      );
      const strict = await verifyVersion(version, { seed: 1, strict: true });
      assert.deepEqual(strict.at(-1), { ...plain[4]!, ok: false });
      await assert.rejects(
        verifyVersion(version, { seed: 1, named: { command: ["python3", "other.py"] } }),
        (error: Error) => {
          assert.ok(error instanceof TypeError);
          assert.match(
            error.message,
            /the command given is python3 other\.py but the one recorded/,
          );
          assert.ok(!error.message.includes("--"), "no flag names below the command line");
          return true;
        },
      );
    });
  },
});

Deno.test("a recipe's family module is imported only when --generator-module names it", async () => {
  await withTempDir("dsgen_safety_test_", async (folder) => {
    const marker = join(folder, "imported");
    const module = join(folder, "evil.ts");
    const dsprites = new URL("../src/generators/dsprites.ts", import.meta.url).href;
    await Deno.writeTextFile(
      module,
      `Deno.writeTextFileSync(${JSON.stringify(marker)}, "x");\n` +
        `export { dspritesFamily as family } from ${JSON.stringify(dsprites)};\n`,
    );
    const recipe = join(folder, "recipe.json");
    await Deno.writeTextFile(
      recipe,
      JSON.stringify({
        family: { name: "dsprites", module: new URL(`file://${module}`).href, options: {} },
        image_size: 16,
        seed: 1,
        splits: [
          { name: "test", where: { random_fraction: 0.1 }, num_images: 20 },
          { name: "train", where: "rest", num_images: 30 },
        ],
      }),
    );
    const out = join(folder, "out");
    const generate = (...extra: string[]) =>
      runCli(["generate", "--recipe", recipe, "--output-dir", out, "--yes", ...extra]);
    const unnamed = await generate();
    assert.equal(unnamed.code, 2, unnamed.stderr);
    assert.match(
      unnamed.stderr,
      /^dsgen: Cannot run the recipe's family module "file:.*evil\.ts" unless "--generator-module" names the same module \(given: none\)\n$/,
    );
    const other = await generate("--generator-module", join(folder, "other.ts"));
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /"file:.*evil\.ts" unless .* \(given: "file:.*other\.ts"\)/);
    assert.equal(await exists(marker), false, "a module named only in a recipe was imported");
    assert.equal(await exists(out), false, "a refused recipe created its output folder");

    const named = await generate("--generator-module", module);
    assert.equal(named.code, 0, named.stderr);
    assert.equal(await exists(marker), true, "the module the user named was not imported");
    await Deno.remove(marker);

    // Its split version: verify re-renders the samples only with the module named.
    const version = named.stdout.trim();
    const verify = await runCli(["verify", version, "--seed", "1"]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /^SKIPPED samples {4}not checked: .*family module file:/m);
    assert.match(verify.stdout, /^ok {6}splits /m);
    const strict = await runCli(["verify", version, "--seed", "1", "--strict"]);
    assert.equal(strict.code, 1, strict.stdout + strict.stderr);
    assert.equal(await exists(marker), false, "verify imported a module named in metadata.json");
    const checked = await runCli(["verify", version, "--seed", "1", "--generator-module", module]);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /^ok {6}samples {4}50 images re-rendered byte-identical/m);
  });
});
