"""dsgen renderer adapter for my_corpus.generate_corpus: see docs/renderer_protocol.md.

Run: dsgen generate --generator-cmd "python3 examples/python/render.py" --num-images 1000 ...
Image i must depend only on (seed, i), so each image is the one-image corpus of its own seed.
"""
import json, struct, sys
import numpy as np
from my_corpus import SIZE, generate_corpus

DESCRIPTION = {"protocol": "dsgen-renderer", "version": 1, "capabilities": ["render"],
               "name": "corpus", "renderer_version": "1.0.0", "image_size": SIZE,
               "dtype": "float32", "classes": ["blob", "ring"], "latents": ["x", "y", "width"],
               # Optional: ranges that `dsgen inspect` checks the latents against.
               "parameters": {"latents": [{"name": "x", "min": 0.25, "max": 0.75},
                                          {"name": "y", "min": 0.25, "max": 0.75},
                                          {"name": "width", "min": 0.05, "max": 0.15}]}}


def render(seed, first, count):
    parts = [generate_corpus(1, np.random.SeedSequence([seed, i])) for i in range(first, first + count)]
    images, labels, latents = (np.concatenate([part[k] for part in parts]) for k in range(3))
    return (images.astype("<f4").tobytes() + labels.astype("u1").tobytes()
            + latents.astype("<f4").tobytes())


def main():
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdin.readline()  # dsgen's hello: protocol versions, the image size asked for
    stdout.write(json.dumps(DESCRIPTION).encode() + b"\n")
    stdout.flush()
    for line in stdin:  # "render <seed> <first> <count>", until dsgen closes stdin
        try:
            status, payload = 0, render(*map(int, line.split()[1:]))
        except Exception as error:  # reported for this request; dsgen stops the run
            status, payload = 1, repr(error).encode()
        stdout.write(b"DSRA" + struct.pack("<IQ", status, len(payload)) + payload)
        stdout.flush()


main()
