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
import { InterruptedError, RunError, UsageError } from "./src/cli/errors.ts";
import { GENERATE_HELP, parseGenerateArgs, runGenerate } from "./src/cli/generate.ts";
import { denoConsole } from "./src/cli/console.ts";
import { INSPECT_HELP, parseInspectArgs, runInspect } from "./src/cli/inspect.ts";
import { parseVerifyArgs, runVerify, VERIFY_HELP } from "./src/cli/verify.ts";
import { LIST_HELP, parseListArgs, runList } from "./src/cli/list.ts";
import { parseRenderArgs, RENDER_HELP, runRender } from "./src/cli/render.ts";
import { callerFolder } from "./src/cli/paths.ts";

const HELP = `dsgen ${denoJson.version}: synthetic image datasets with known ground-truth factors

Usage:
  dsgen generate --num-images N --output-dir DIR [--seed S] [options]
  dsgen --num-images N --output-dir DIR [--seed S]    (same as generate)
  dsgen inspect PATH     grid PNG and quality report of a version
  dsgen verify PATH      check files, checksums and re-rendered samples
  dsgen list DIR         datasets and versions under an output folder
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
      // The first signal asks the run to stop and remove its staging folder; a second one (a
      // cleanup stuck on a hung disk, an impatient user) exits at once, leaving the folder
      // for the next run into the dataset, which removes it since this process is gone.
      const handlers = (["SIGINT", "SIGTERM"] as const).map((signal) => {
        const handler = () => {
          const interrupted = new InterruptedError(signal);
          if (!controller.signal.aborted) return controller.abort(interrupted);
          io.stderr(
            `dsgen: ${interrupted.message} again: stopped without cleaning up; the next run ` +
              "into this dataset removes the unfinished version\n",
          );
          Deno.exit(interrupted.exitCode);
        };
        try {
          Deno.addSignalListener(signal, handler);
        } catch {
          // Not every platform has SIGTERM listeners (Windows); Ctrl+C still stops the run.
        }
        return [signal, handler] as const;
      });
      try {
        await runGenerate(options, {
          ...io,
          // As typed: with or without the word "generate".
          commandLine: ["dsgen", ...commandLine],
          signal: controller.signal,
        });
      } finally {
        for (const [signal, handler] of handlers) {
          try {
            Deno.removeSignalListener(signal, handler);
          } catch {
            // Never added.
          }
        }
      }
    },
    inspect: async (args) => {
      const options = parseInspectArgs(args, caller);
      if (options === "help") return io.stdout(INSPECT_HELP);
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
      console.error(`dsgen: ${error.message}`);
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
