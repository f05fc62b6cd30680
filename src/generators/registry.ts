/**
 * The registry of dataset families, by name.
 *
 * @module
 */

import type { GeneratorFamily } from "./generator.ts";
import { dspritesFamily } from "./dsprites.ts";
import { scenesFamily } from "./scenes_family.ts";
import { shapesFamily } from "./shapes.ts";

/** A set of families that rejects duplicate names and lists the known ones on a miss. */
export class GeneratorRegistry {
  #families = new Map<string, GeneratorFamily>();

  /**
   * Adds a family.
   *
   * @param family The family to add; its name must be new.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { GeneratorRegistry } from "./registry.ts";
   * import { shapesFamily } from "./shapes.ts";
   * const registry = new GeneratorRegistry();
   * registry.register(shapesFamily);
   * assert.ok(registry.names().includes("shapes"));
   * ```
   */
  register(family: GeneratorFamily): void {
    if (this.#families.has(family.name)) {
      throw new TypeError(`Cannot register generator "${family.name}": the name is taken`);
    }
    this.#families.set(family.name, family);
  }

  /**
   * Looks a family up by name.
   *
   * @param name The family's name.
   * @returns The family.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { generators } from "./registry.ts";
   * assert.ok(generators.get("shapes").name === "shapes");
   * ```
   */
  get(name: string): GeneratorFamily {
    const family = this.#families.get(name);
    if (family === undefined) {
      throw new RangeError(
        `Cannot find generator "${name}": known generators are ${this.names().join(", ")}`,
      );
    }
    return family;
  }

  /**
   * The registered names, sorted.
   *
   * @returns The names.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { generators } from "./registry.ts";
   * assert.ok(generators.names().length >= 1);
   * ```
   */
  names(): string[] {
    return [...this.#families.keys()].sort();
  }
}

/** The families dsgen ships. */
export const generators: GeneratorRegistry = new GeneratorRegistry();
generators.register(shapesFamily);
generators.register(dspritesFamily);
generators.register(scenesFamily);
