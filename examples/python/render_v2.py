"""dsgen renderer adapter for my_corpus.generate_corpus, protocol version 2: see docs/own-renderer.md.

Run: dsgen generate --generator-cmd "python3 examples/python/render_v2.py" --num-images 1000 ...
Version 2 declares every array the archive gets, as a family's sample schema does; this one adds
a `mask` array (where the blob or ring is brighter than 0.5) to what render.py (version 1) gives.
Image i must depend only on (seed, i), so each image is the one-image corpus of its own seed.
"""
import json, struct, sys
import numpy as np
from my_corpus import SIZE, generate_corpus

ARRAYS = [  # name, dtype, shape of one sample, role; stored in this order as <name>.npy
    {"name": "images", "dtype": "float32", "shape": [SIZE, SIZE], "role": "image"},
    {"name": "labels", "dtype": "uint8", "shape": [], "role": "label"},
    {"name": "latents", "dtype": "float32", "shape": [3], "role": "factor"},
    {"name": "mask", "dtype": "uint8", "shape": [SIZE, SIZE], "role": "mask"},
]
DESCRIPTION = {"protocol": "dsgen-renderer", "version": 2, "capabilities": ["render"],
               "name": "corpus", "renderer_version": "2.0.0", "arrays": ARRAYS,
               "classes": ["blob", "ring"]}  # the values of the "labels" array


def render(seed, first, count):
    parts = [generate_corpus(1, np.random.SeedSequence([seed, i])) for i in range(first, first + count)]
    images, labels, latents = (np.concatenate([part[k] for part in parts]) for k in range(3))
    mask = np.where(images > 0.5, 255, 0)
    arrays = [images.astype("<f4"), labels.astype("u1"), latents.astype("<f4"), mask.astype("u1")]
    # Each array as its byte length (uint64, little-endian), then its bytes in C order.
    return b"".join(struct.pack("<Q", array.nbytes) + array.tobytes() for array in arrays)


def main():
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    hello = json.loads(stdin.readline())  # dsgen's hello: protocol versions, image size asked for
    if 2 not in hello["versions"]:
        sys.exit("this dsgen does not speak renderer protocol version 2: update dsgen")
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
