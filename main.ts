/**
 * The `dsgen` command line: picks the subcommand, and is the only place that prints an error
 * and sets the exit code.
 *
 * ```
 * dsgen [generate] --num-images N --output-dir DIR [--seed S] ...
 * dsgen inspect PATH | verify PATH | list DIR
 * dsgen render --generator G --latents IN.npy --output OUT.npy
 * ```
 *
 * @module
 */

import denoJson from "./deno.json" with { type: "json" };
import { commandLineMessage, RunError, UsageError } from "./src/cli/errors.ts";
import { stopOnSignals } from "./src/cli/signals.ts";
import { GENERATE_HELP, parseGenerateArgs, runGenerate } from "./src/cli/generate.ts";
import { denoConsole } from "./src/cli/console.ts";
import { INSPECT_HELP, parseInspectArgs, runInspect } from "./src/cli/inspect.ts";
import { parseVerifyArgs, runVerify, VERIFY_HELP } from "./src/cli/verify.ts";
import { LIST_HELP, parseListArgs, runList } from "./src/cli/list.ts";
import { MERGE_HELP, parseRunCommandArgs, runMerge } from "./src/cli/merge.ts";
import { DISCARD_HELP, runDiscard } from "./src/cli/discard.ts";
import { parseRenderArgs, RENDER_HELP, runRender } from "./src/cli/render.ts";
import { callerFolder } from "./src/cli/paths.ts";

const HELP = `dsgen ${denoJson.version}: synthetic image datasets with known ground-truth factors

Usage:
  dsgen generate --num-images N --output-dir DIR [--seed S] [options]
  dsgen --num-images N --output-dir DIR [--seed S]    (same as generate)
  dsgen inspect PATH     grid PNG and quality report of a version
  dsgen verify PATH      check files, checksums and re-rendered samples
  dsgen list DIR         datasets and versions under an output folder
  dsgen merge DATASET_DIR --run-id ID     merge a sharded run (generate --shards)
  dsgen discard DATASET_DIR --run-id ID   remove an abandoned sharded run
  dsgen render --generator G --latents IN.npy --output OUT.npy
                         images for factor values you choose

Run "dsgen <command> --help" for a command's options. "dsgen --version" prints the version.
`;

type Command = (args: string[]) => Promise<void>;

function commands(commandLine: readonly string[]): Record<string, Command> {
  const io = denoConsole();
  // Relative paths mean the folder the command was typed in, for every command (paths.ts).
  const caller = callerFolder();
  return {
    generate: async (args) => {
      const options = parseGenerateArgs(args, caller);
      if (options === "help") return io.stdout(GENERATE_HELP);
      const controller = new AbortController();
      const stopListening = stopOnSignals(controller);
      try {
        await runGenerate(options, {
          ...io,
          // As typed: with or without the word "generate".
          commandLine: ["dsgen", ...commandLine],
          signal: controller.signal,
        });
      } finally {
        stopListening();
      }
    },
    inspect: async (args) => {
      const options = parseInspectArgs(args, caller);
      if (options === "help") return io.stdout(INSPECT_HELP);
      // A recipe's splits: pictures of their regions (src/cli/inspect_splits.ts).
      const splits = await import("./src/cli/inspect_splits.ts");
      if (await splits.hasSplits(options.path)) {
        await splits.runInspectSplits(options, io);
        return;
      }
      // Scenes: their own report and a grid of masks (src/cli/inspect_scenes.ts).
      const scenes = await import("./src/cli/inspect_scenes.ts");
      if (await scenes.isScenesVersion(options.path)) {
        await scenes.runInspectScenes(options, io);
        return;
      }
      await runInspect(options, io);
    },
    verify: async (args) => {
      const options = parseVerifyArgs(args, caller);
      if (options === "help") return io.stdout(VERIFY_HELP);
      await runVerify(options, io);
    },
    render: async (args) => {
      const options = parseRenderArgs(args, caller);
      if (options === "help") return io.stdout(RENDER_HELP);
      await runRender(options, io);
    },
    list: async (args) => {
      const options = parseListArgs(args, caller);
      if (options === "help") return io.stdout(LIST_HELP);
      await runList(options, io);
    },
    merge: async (args) => {
      const options = parseRunCommandArgs("merge", args, Deno.env.toObject(), caller);
      if (options === "help") return io.stdout(MERGE_HELP);
      const controller = new AbortController();
      const stopListening = stopOnSignals(controller);
      try {
        await runMerge(
          options,
          { ...io, commandLine: ["dsgen", ...commandLine] },
          controller.signal,
        );
      } finally {
        stopListening();
      }
    },
    discard: async (args) => {
      const options = parseRunCommandArgs("discard", args, Deno.env.toObject(), caller);
      if (options === "help") return io.stdout(DISCARD_HELP);
      await runDiscard(options, io);
    },
  };
}

/**
 * Runs the command line and returns the exit code.
 *
 * @param args The words after the program name.
 * @returns 0 on success, 1 on a failed run, 2 on a usage error, 130/143 when interrupted.
 */
export async function main(args: string[]): Promise<number> {
  const table = commands(args);
  const [first] = args;
  try {
    if (first === "--version" || first === "-V") {
      console.log(`dsgen ${denoJson.version} (deno ${Deno.version.deno})`);
      return 0;
    }
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
      // Without any argument the help is a usage error: it goes to stderr, exit code 2.
      if (first === undefined) console.error(HELP);
      else console.log(HELP);
      return first === undefined ? 2 : 0;
    }
    if (first.startsWith("-")) {
      await table.generate!(args);
      return 0;
    }
    const command = table[first];
    if (command === undefined) {
      throw new UsageError(
        `Unknown command "${first}": expected one of ${Object.keys(table).join(", ")}`,
      );
    }
    await command(args.slice(1));
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof RunError) {
      console.error(`dsgen: ${commandLineMessage(error)}`);
      if (Deno.env.get("DSGEN_DEBUG") === "1") console.error(error.stack);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    console.error(`dsgen: unexpected error: ${message}`);
    if (Deno.env.get("DSGEN_DEBUG") === "1") console.error((error as Error)?.stack);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
