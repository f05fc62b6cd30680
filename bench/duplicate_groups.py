"""Groups the identical images of a dsgen version by class and orientation.

Usage: python3 bench/duplicate_groups.py VERSION_DIR/dataset.npz

Prints how many groups of identical images there are, per class, and for squares how many lie
within 5 degrees of 0/90 (axis-aligned; and how many of those straddle the wrap at 90), within
5 degrees of 45, or elsewhere, with the quartiles of the groups' mean scale. The README's
"Duplicates" paragraph quotes its output for 1,000,000 images, seed 42.
"""

import collections
import sys

import numpy as np

PERIODS = {"ellipse": np.pi, "square": np.pi / 2, "triangle": 2 * np.pi / 3}

data = np.load(sys.argv[1], allow_pickle=False)
images, labels, latents = data["images"], data["labels"], data["latents"]
names = [str(name) for name in data["class_names"]]
rows = np.ascontiguousarray(images.reshape(len(images), -1))
keys = rows.view(np.dtype((np.void, rows.shape[1]))).ravel()
_, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
inverse = inverse.ravel()
groups = collections.defaultdict(list)
for index in np.nonzero(counts[inverse] > 1)[0]:
    groups[inverse[index]].append(index)
extra = sum(len(members) - 1 for members in groups.values())
print(f"images {len(images)}, groups of identical images {len(groups)}, extra copies {extra}")

per_class = collections.Counter()
square = collections.Counter()
square_scales = []
for members in groups.values():
    classes = {names[labels[m]] for m in members}
    name = classes.pop() if len(classes) == 1 else "mixed"
    per_class[name] += 1
    if name != "square":
        continue
    degrees = np.degrees(latents[members, 1].astype(np.float64))
    to_axis = np.minimum(degrees, 90 - degrees)
    square_scales.append(float(latents[members, 0].mean()))
    if (to_axis < 5).all():
        square["within 5 deg of 0/90"] += 1
        if (degrees < 5).any() and (degrees > 85).any():
            square["  of which on both sides of the wrap"] += 1
    elif (np.abs(degrees - 45) < 5).all():
        square["within 5 deg of 45"] += 1
    else:
        square["elsewhere"] += 1
print("groups per class:", dict(per_class))
print("square groups:", dict(square))
if square_scales:
    quartiles = np.percentile(square_scales, [25, 50, 75]).round(2).tolist()
    print("square groups' mean scale, quartiles:", quartiles)
