/**
 * The renderer protocol's pure parts: answer headers (golden bytes), handshake checks, the
 * command splitter, and the checks on an answer's values.
 */

import assert from "node:assert/strict";
import {
  answerBytes,
  decodeAnswerHeader,
  helloLine,
  parseDescription,
  requestLine,
  splitCommand,
} from "../src/renderer/protocol.ts";
import { checkAnswer } from "../src/renderer/chunks.ts";
import { RendererError } from "../src/renderer/process.ts";

const GOOD = {
  protocol: "dsgen-renderer",
  version: 1,
  capabilities: ["render"],
  name: "blobs",
  renderer_version: "1.0",
  image_size: 4,
  dtype: "float32",
  classes: ["a", "b"],
  latents: ["x"],
};

Deno.test("an answer header is DSRA, uint32 status, uint64 length, little-endian", () => {
  // What Python's b"DSRA" + struct.pack("<IQ", 0, 258) writes.
  const golden = new Uint8Array([
    0x44,
    0x53,
    0x52,
    0x41,
    0,
    0,
    0,
    0,
    0x02,
    0x01,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  assert.deepEqual(decodeAnswerHeader(golden), { status: 0, payloadBytes: 258 });
  const error = golden.slice();
  error[4] = 1;
  assert.equal(decodeAnswerHeader(error).status, 1);
  const badStatus = golden.slice();
  badStatus[4] = 2;
  assert.throws(() => decodeAnswerHeader(badStatus), /status is 2, expected 0 \(ok\) or 1/);
  const badMagic = golden.slice();
  badMagic[0] = 0x58;
  assert.throws(() => decodeAnswerHeader(badMagic), /starts with "XSRA" \(bytes 58 53 52 41\)/);
});

Deno.test("requests and the hello are lines; answer sizes follow the description", () => {
  assert.equal(requestLine(4294967295, 999_999_999, 1), "render 4294967295 999999999 1\n");
  assert.deepEqual(JSON.parse(helloLine(undefined)), {
    protocol: "dsgen-renderer",
    versions: [1, 2],
    capabilities: ["render"],
    image_size: null,
  });
  const v1 = parseDescription(JSON.stringify({ ...GOOD, dtype: "float64", latents: [] }));
  assert.equal(answerBytes(v1, 3), 3 * (128 + 1));
});

Deno.test("a handshake is checked field by field", () => {
  assert.equal(parseDescription(JSON.stringify(GOOD)).name, "blobs");
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ protocol: "x" }, /"protocol" is "x", expected "dsgen-renderer"/],
    [{ version: 3 }, /"version" is 3, expected one of 1, 2/],
    [{ capabilities: ["other"] }, /"capabilities" .* expected a list that holds "render"/],
    [{ name: "../x" }, /"name" is "..\/x", expected 1 to 100 letters/],
    [{ renderer_version: 3 }, /"renderer_version" is 3, expected a non-empty string/],
    [{ image_size: 300 }, /"image_size" is 300, expected an integer from 4 to 256/],
    [{ dtype: "int16" }, /"dtype" is "int16", expected one of uint8, float32, float64/],
    [{ classes: [] }, /"classes" is \[\], expected a list of 1 to 256 non-empty strings/],
    [{ latents: "x" }, /"latents" is "x", expected a list of 0 to 1000/],
    [{ parameters: [1] }, /"parameters" is \[1\], expected a JSON object/],
  ];
  for (const [change, message] of bad) {
    assert.throws(() => parseDescription(JSON.stringify({ ...GOOD, ...change })), message);
  }
  assert.throws(() => parseDescription("hello"), /expected one line of JSON, got "hello"/);
  assert.throws(() => parseDescription("[1]"), /expected a JSON object/);
});

Deno.test("commands split like a shell's plain words", () => {
  assert.deepEqual(splitCommand("  python3   render.py  "), ["python3", "render.py"]);
  assert.deepEqual(splitCommand(`a 'b c' "d \\" e" f\\ g ''`), ["a", "b c", 'd " e', "f g", ""]);
  assert.throws(() => splitCommand("python3 'x"), /a single quote is not closed/);
  assert.throws(() => splitCommand('python3 "x'), /a double quote is not closed/);
  assert.throws(() => splitCommand("python3 x\\"), /it ends with a backslash/);
});

Deno.test("an answer's values are checked, and floats quantized with numpy's rule", () => {
  const description = parseDescription(JSON.stringify({ ...GOOD, classes: ["a"] }));
  const pixels = new Float32Array(32).fill(0.5);
  pixels[16 + 5] = 1.5;
  const latents = new Uint8Array(new Float32Array([0.1, 0.2]).buffer);
  const answer = { arrays: [new Uint8Array(pixels.buffer), new Uint8Array(2), latents] };
  const context = { description, start: 100, dtype: "uint8" as const, label: "r" };
  assert.throws(
    () => checkAnswer(answer, context),
    (error: unknown) =>
      error instanceof RendererError &&
      /sent pixel value 1\.5 at image #101 \(row 1, column 1\), expected a number from 0 to 1/
        .test(error.message),
  );
  pixels[16 + 5] = 0.5;
  const checked = checkAnswer(answer, context);
  assert.deepEqual([...checked.arrays[0]!.subarray(0, 2)], [128, 128]); // 127.5 rounds to even
  const nanLatent = {
    arrays: [
      answer.arrays[0]!,
      answer.arrays[1]!,
      new Uint8Array(new Float32Array([0.1, NaN]).buffer),
    ],
  };
  assert.throws(() => checkAnswer(nanLatent, context), /latent "x" = NaN for image #101,/);
  const badLabel = { arrays: [answer.arrays[0]!, new Uint8Array([0, 1]), latents] };
  assert.throws(() => checkAnswer(badLabel, context), /label 1 for image #101, expected 0 to 0/);
  // Unaligned answers (a payload inside a pipe chunk) are copied, not misread.
  const shifted = new Uint8Array(pixels.byteLength + 1);
  shifted.set(new Uint8Array(pixels.buffer), 1);
  const unaligned = { arrays: [shifted.subarray(1), answer.arrays[1]!, latents] };
  assert.equal(checkAnswer(unaligned, context).arrays[0]![31], 128);
  const wide = checkAnswer(answer, { ...context, dtype: "float64" });
  assert.equal(new Float64Array(wide.arrays[0]!.buffer, wide.arrays[0]!.byteOffset)[0], 0.5);
});
