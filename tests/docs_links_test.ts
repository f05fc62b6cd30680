/**
 * Every relative link of README.md and docs/*.md reaches a file of this checkout, and every
 * `#anchor` a heading of the page it points into (GitHub's heading slugs), so moving a section
 * between pages cannot leave a dead link behind.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";
import { fencedBlocks } from "../scripts/markdown.ts";
import { REPO_ROOT } from "./support/cli.ts";

/**
 * GitHub's anchor for a heading: lower case, inline code marks and punctuation other than
 * hyphens dropped, spaces as hyphens.
 */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

/** The anchors of a page's headings, outside code blocks. */
function anchors(markdown: string): Set<string> {
  const inCode = new Set<number>();
  for (const block of fencedBlocks(markdown)) {
    const lines = block.code.split("\n").length;
    for (let line = block.line; line <= block.line + lines; line++) inCode.add(line);
  }
  const found = new Set<string>();
  markdown.split("\n").forEach((line, index) => {
    const heading = /^#{1,6} (.+)$/.exec(line);
    if (heading !== null && !inCode.has(index + 1)) found.add(slug(heading[1] ?? ""));
  });
  return found;
}

Deno.test("slug follows GitHub's heading anchors", () => {
  assert.equal(slug("The renderer protocol (version 1)"), "the-renderer-protocol-version-1");
  assert.equal(slug("Fix one factor: `dsgen render`"), "fix-one-factor-dsgen-render");
  assert.equal(slug("TypeScript: the library"), "typescript-the-library");
});

Deno.test("every relative link of README.md and docs/*.md reaches a file and an anchor", async () => {
  const pages = ["README.md"];
  for await (const entry of Deno.readDir(join(REPO_ROOT, "docs"))) {
    if (entry.isFile && entry.name.endsWith(".md")) pages.push(`docs/${entry.name}`);
  }
  const problems: string[] = [];
  let checked = 0;
  for (const page of pages) {
    const text = await Deno.readTextFile(join(REPO_ROOT, page));
    // Links in code blocks are examples, not links.
    const prose = fencedBlocks(text).reduce(
      (rest, block) => rest.replace(block.code, ""),
      text,
    );
    for (const match of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1] ?? "";
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
      const [file = "", anchor] = target.split("#");
      const path = file === "" ? page : normalize(join(dirname(page), file));
      checked++;
      let targetText: string;
      try {
        const info = await Deno.stat(join(REPO_ROOT, path));
        if (!info.isFile) continue; // a folder link
        targetText = await Deno.readTextFile(join(REPO_ROOT, path));
      } catch {
        problems.push(`${page}: ${target}: no file ${path}`);
        continue;
      }
      if (anchor !== undefined && path.endsWith(".md") && !anchors(targetText).has(anchor)) {
        problems.push(`${page}: ${target}: ${path} has no heading with the anchor #${anchor}`);
      }
    }
  }
  assert.ok(checked > 10, `only ${checked} links found`);
  assert.deepEqual(problems, [], problems.join("\n"));
});
