"""The fixtures' deterministic synthetic images (gradients, shapes, stripes and noise): the
recorded pixel batches, and image files of varied sizes, aspect ratios, colour modes and
encodings, as a user's folder has them, for make_fixtures.py to resize the ways
image_dataset_from_directory can. The same seed gives the same bytes."""

import os

import numpy as np
from PIL import Image

# The image files: (name, width, height, PIL mode, format, save options).
IMAGE_FILES = [
    ("a_landscape_120x80.jpg", 120, 80, "RGB", "JPEG", {"quality": 90}),
    ("b_tall_64x200.png", 64, 200, "RGB", "PNG", {}),
    ("c_square_300x300.jpg", 300, 300, "RGB", "JPEG", {"quality": 95, "subsampling": 0}),
    ("d_odd_97x131.png", 97, 131, "RGBA", "PNG", {}),
    ("e_photo_500x375.jpeg", 500, 375, "RGB", "JPEG", {"quality": 75}),
    ("f_tiny_33x47.png", 33, 47, "P", "PNG", {}),
    ("g_gray_144x256.jpg", 144, 256, "L", "JPEG", {"quality": 85}),
    ("h_wide_256x96.png", 256, 96, "RGB", "PNG", {}),
]


def synthetic_image(rng, h, w):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy /= max(h - 1, 1)
    xx /= max(w - 1, 1)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        a, b, off = rng.uniform(-1, 1, 3)
        img[..., c] = 128 + 100 * (a * xx + b * yy) + 40 * off
    for _ in range(rng.integers(2, 5)):  # discs and rectangles in random colours
        colour = rng.uniform(0, 255, 3)
        cy, cx, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.1, 0.35)
        if rng.random() < 0.5:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        else:
            mask = (np.abs(yy - cy) < r * 0.7) & (np.abs(xx - cx) < r)
        img[mask] = 0.35 * img[mask] + 0.65 * colour
    freq, phase = rng.uniform(4, 20), rng.uniform(0, 6.3)
    img += 25 * np.sin(freq * (xx + 0.6 * yy) * np.pi + phase)[..., None]
    img += rng.normal(0, 10, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def synthetic_batch(seed, n, size):
    rng = np.random.default_rng(seed)
    return np.stack([synthetic_image(rng, size, size) for _ in range(n)])


def write_images(folder, seed):
    cls = os.path.join(folder, "all")
    os.makedirs(cls)
    rng = np.random.default_rng(seed)
    described = []
    for name, w, h, mode, fmt, opts in IMAGE_FILES:
        rgb = Image.fromarray(synthetic_image(rng, h, w), "RGB")
        if mode == "RGBA":
            alpha = np.clip(np.linspace(40, 255, w)[None, :].repeat(h, 0), 0, 255).astype(np.uint8)
            im = rgb.copy()
            im.putalpha(Image.fromarray(alpha, "L"))
        elif mode == "P":
            im = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
        elif mode == "L":
            im = rgb.convert("L")
        else:
            im = rgb
        im.save(os.path.join(cls, name), fmt, **opts)
        described.append({"path": f"all/{name}", "width": w, "height": h, "colorMode": mode, "format": fmt.lower(), "saveOptions": opts})
    return described

