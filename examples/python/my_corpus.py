"""Stands for a researcher's existing code: `generate_corpus(n, seed)` draws n images at once.

Each image is a bright Gaussian blob (class "blob") or a ring (class "ring") on a dark
background, at a random position and width. Nothing here knows about dsgen.
"""
import numpy as np

SIZE = 16


def generate_corpus(n, seed):
    """Returns images (n, SIZE, SIZE) float32 in [0, 1], labels (n,) and latents (n, 3)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    latents = np.stack([rng.uniform(0.25, 0.75, n), rng.uniform(0.25, 0.75, n),
                        rng.uniform(0.05, 0.15, n)], axis=1).astype(np.float32)
    grid = (np.arange(SIZE) + 0.5) / SIZE
    dy = grid[None, :, None] - latents[:, 1, None, None]
    dx = grid[None, None, :] - latents[:, 0, None, None]
    distance = np.sqrt(dx * dx + dy * dy)
    width = latents[:, 2, None, None]
    blob = np.exp(-(distance / width) ** 2)
    ring = np.exp(-((distance - 2 * width) / (0.5 * width)) ** 2)
    images = np.where(labels[:, None, None] == 0, blob, ring)
    return images.astype(np.float32), labels, latents
