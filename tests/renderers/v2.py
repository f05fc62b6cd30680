"""A protocol version 2 renderer: an RGB image, a label, a per-sample int32 array and a mask.

Its first argument chooses how it behaves. Modes:
- ok: answers correctly;
- badschema-<kind>: declares a malformed schema (dtype, shape, noimage, dupname, reserved,
  noclasses, imageshape, v1field);
- wrongsize: the second answer's "mask" array has one sample too few;
- badtotal: the second answer's header announces one byte too many;
- crash: exits with code 3 at the second request;
- label, nan: a label out of range, a NaN factor in the second answer;
- nondeterministic: the last column of "counts" is drawn from a global random state.
Used by tests/renderer_v2_test.ts, which also imports `render` to check archives.
"""
import json, struct, sys
import numpy as np

MODE = sys.argv[1] if __name__ == "__main__" else "ok"
SIZE = 8
stdin, stdout = sys.stdin.buffer, sys.stdout.buffer

ARRAYS = [
    {"name": "images", "dtype": "float32", "shape": [SIZE, SIZE, 3], "role": "image"},
    {"name": "shape", "dtype": "uint8", "shape": [], "role": "label"},
    {"name": "counts", "dtype": "int32", "shape": [3], "role": "other"},
    {"name": "mask", "dtype": "uint8", "shape": [SIZE, SIZE], "role": "mask"},
    {"name": "position", "dtype": "float32", "shape": [2], "role": "factor"},
]
BAD = {
    "dtype": lambda arrays: arrays[2].update(dtype="int64"),
    "shape": lambda arrays: arrays[3].update(shape=[SIZE, 0]),
    "noimage": lambda arrays: arrays[0].update(role="other"),
    "dupname": lambda arrays: arrays[2].update(name="mask"),
    "reserved": lambda arrays: arrays[2].update(name="class_names"),
    "imageshape": lambda arrays: arrays[0].update(shape=[SIZE, SIZE + 1, 3]),
}


def describe():
    arrays = [dict(spec) for spec in ARRAYS]
    description = {"protocol": "dsgen-renderer", "version": 2, "capabilities": ["render"],
                   "name": "rgbmask", "renderer_version": "2.0", "arrays": arrays,
                   "classes": ["square", "disc"], "parameters": {"mode": MODE}}
    kind = MODE[len("badschema-"):] if MODE.startswith("badschema-") else None
    if kind in BAD:
        BAD[kind](arrays)
    if kind == "noclasses":
        del description["classes"]
    if kind == "v1field":
        description["image_size"] = SIZE
    return description


def render(seed, first, count):
    """Sample i from (seed, i) only: a square or disc of one colour at one place."""
    index = np.arange(first, first + count, dtype=np.int64)
    shape = (index % 2).astype("u1")
    cx = (index * 7 + seed) % (SIZE - 2) + 1
    cy = (index * 3 + seed * 5) % (SIZE - 2) + 1
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    dist = np.maximum(abs(rows[None] - cy[:, None, None]), abs(cols[None] - cx[:, None, None]))
    round_dist = np.hypot(rows[None] - cy[:, None, None], cols[None] - cx[:, None, None])
    inside = np.where(shape[:, None, None] == 0, dist <= 1, round_dist <= 1.5)
    colour = np.stack([(index * k + seed) % 256 / 255.0 for k in (11, 13, 17)], axis=1)
    images = (inside[..., None] * colour[:, None, None, :]).astype("<f4")
    counts = np.stack([index, inside.sum(axis=(1, 2)), np.full(count, seed)], axis=1)
    position = np.stack([cx, cy], axis=1) / SIZE
    return [images, shape, counts.astype("<i4"), (inside * 255).astype("u1"),
            position.astype("<f4")]


def answer(status, payload, extra=0):
    stdout.write(b"DSRA" + struct.pack("<IQ", status, len(payload) + extra) + payload)
    stdout.flush()


def main():
    hello = json.loads(stdin.readline())
    if 2 not in hello["versions"]:
        print("renderer: dsgen offers no version 2", file=sys.stderr, flush=True)
        sys.exit(4)
    stdout.write(json.dumps(describe()).encode() + b"\n")
    stdout.flush()
    served = 0
    for line in stdin:
        seed, first, count = map(int, line.split()[1:])
        arrays = render(seed, first, count)
        served += 1
        if MODE == "crash" and served == 2:
            print("Traceback (most recent call last):", file=sys.stderr)
            print("ZeroDivisionError: division by zero", file=sys.stderr, flush=True)
            sys.exit(3)
        if MODE == "nondeterministic":
            arrays[2][:, 2] = np.random.default_rng().integers(1000, 2000, count)
        if MODE == "label" and served == 2:
            arrays[1][0] = 2
        if MODE == "nan" and served == 2:
            arrays[4][1, 1] = np.nan
        if MODE == "wrongsize" and served == 2:
            arrays[3] = arrays[3][1:]
        payload = b"".join(struct.pack("<Q", array.nbytes) + array.tobytes() for array in arrays)
        answer(0, payload, 1 if MODE == "badtotal" and served == 2 else 0)


if __name__ == "__main__":
    main()
