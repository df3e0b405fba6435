"""The offline sample gallery: pictures that work with no network, served as file bytes.

A sample's bytes take exactly the upload path (``cnnviz.inputs.images.decode_image``;
``cnnviz.inputs.images.load_sample`` does both steps).
"""

from __future__ import annotations

import functools
import importlib.resources
import importlib.util
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from cnnviz.errors import ImageError
from cnnviz.i18n import N_, _

# Photos shipped by installed packages: (source label, package, file name)
PHOTOS = (
    ("matplotlib", "matplotlib", "grace_hopper.jpg"),
    ("matplotlib", "matplotlib", "Minduka_Present_Blue_Pack.png"),
    ("matplotlib", "matplotlib", "logo2.png"),
    ("ndf", "ndf", "tests/book-2020460_640.jpg"),
    *(
        ("skimage", "skimage.data", f)
        for f in (
            "astronaut.png",
            "chelsea.png",
            "coffee.png",
            "rocket.jpg",
            "motorcycle_left.png",
            "motorcycle_right.png",
            "hubble_deep_field.jpg",
            "retina.jpg",
            "brick.png",
            "camera.png",
            "cell.png",
            "coins.png",
            "color.png",
            "grass.png",
            "gravel.png",
            "horse.png",
            "ihc.png",
            "logo.png",
            "moon.png",
            "page.png",
            "text.png",
            "clock_motion.png",
            "microaneurysms.png",
            "chessboard_RGB.png",
            "phantom.png",
        )
    ),
    ("sklearn", "sklearn.datasets.images", "china.jpg"),
    ("sklearn", "sklearn.datasets.images", "flower.jpg"),
)


@dataclass(frozen=True)
class Sample:
    """A gallery image that works offline; ``loader()`` returns its file bytes. ``title`` and
    ``credit`` are English, marked for the catalogue: translate them where shown
    (:func:`shown_title`); ``name`` is the key links use (``image=chelsea``)."""

    name: str
    title: str
    credit: str
    loader: Callable[[], bytes]


def package_file(package: str, name: str) -> bytes:
    """The bytes of a sample file an installed package ships (matplotlib's sample data,
    ``skimage.data``, ``sklearn.datasets.images``): the original file, so a sample is just an
    upload.

    Args:
        package: "matplotlib" (its sample data), or the dotted name of the package
            holding the file (``skimage.data``).
        name: the file's name in it.

    Returns:
        The file's bytes.

    Raises:
        OSError or ImportError: the package or file is not installed.
    """
    if package == "matplotlib":
        # its sample data folder, read without importing matplotlib (0.3 s: a fresh server's
        # first frame draws the default photo before the app's imports are done)
        found = _installed_file("matplotlib.mpl-data.sample_data", name)
        if found is not None:
            return found.read_bytes()
        from matplotlib import cbook

        found = cbook.get_sample_data(name)
        # Depending on the matplotlib version this is a path or an open binary file.
        if hasattr(found, "read"):
            with found:
                return found.read()
        return Path(found).read_bytes()
    found = _installed_file(package, name)
    if found is not None:
        return found.read_bytes()
    return importlib.resources.files(package).joinpath(name).read_bytes()


def _installed_file(package: str, name: str) -> Path | None:
    """Where ``name`` of ``package`` lies in its installed folder, found without importing the
    package: ``skimage.data`` imports scipy.stats (a second of the interpreter's lock, taken
    from a class in the middle of its clicks when the first tab opened a gallery photo)."""
    top, _, sub = package.partition(".")
    spec = importlib.util.find_spec(top)  # a top-level name is found, not run
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *filter(None, sub.split(".")), name)
    return path if path.is_file() else None


def _skimage_file(fname: str) -> Callable[[], bytes]:
    return functools.partial(package_file, "skimage.data", fname)


def _digit_png() -> bytes:
    """A '7' like an MNIST digit: white strokes on a black 28×28, shown at 224×224."""
    ss = 10  # draw 10x supersampled, then shrink: anti-aliased edges like real MNIST
    big = Image.new("L", (28 * ss, 28 * ss), 0)
    draw = ImageDraw.Draw(big)
    stroke = [(8, 7), (20, 6.5), (17, 12), (13, 22)]
    draw.line(
        [(x * ss, y * ss) for x, y in stroke],
        fill=255,
        width=int(2.8 * ss),
        joint="curve",
    )
    small = big.resize((28, 28), Image.Resampling.BOX)
    # Nearest-neighbour x8 keeps the 28×28 pixel grid visible and shrinks back exactly.
    shown = small.resize((224, 224), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    shown.save(buf, format="PNG")
    return buf.getvalue()


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in (
        Sample(
            "grace_hopper",
            "Grace Hopper",
            N_("Rear Admiral Grace Hopper; U.S. Navy photo, public domain (matplotlib sample data)."),
            functools.partial(package_file, "matplotlib", "grace_hopper.jpg"),
        ),
        Sample(
            "astronaut",
            N_("Astronaut"),
            N_("Eileen Collins; NASA, public domain (scikit-image)."),
            _skimage_file("astronaut.png"),
        ),
        Sample(
            "chelsea",
            N_("Chelsea the cat"),
            N_("Stefan van der Walt, CC0 (scikit-image)."),
            _skimage_file("chelsea.png"),
        ),
        Sample(
            "coffee",
            N_("Coffee cup"),
            N_("Rachel Michetti, courtesy of Pikolo Espresso Bar, CC0 (scikit-image)."),
            _skimage_file("coffee.png"),
        ),
        Sample(
            "rocket",
            N_("Rocket launch"),
            N_("Falcon 9 carrying DSCOVR; SpaceX, public domain (scikit-image)."),
            _skimage_file("rocket.jpg"),
        ),
        Sample(
            "motorcycle_left",
            N_("Motorcycle"),
            N_("Middlebury 2014 stereo benchmark, Scharstein et al. (scikit-image)."),
            _skimage_file("motorcycle_left.png"),
        ),
        Sample(
            "hubble_deep_field",
            N_("Hubble deep field"),
            N_("Hubble eXtreme Deep Field; NASA, public domain (scikit-image)."),
            _skimage_file("hubble_deep_field.jpg"),
        ),
        Sample(
            "retina",
            N_("Retina (eye photo)"),
            N_("Fundus photograph by Mikael Häggström, CC0 (scikit-image)."),
            _skimage_file("retina.jpg"),
        ),
        Sample(
            "digit_7",
            N_("Hand-drawn digit (generated)"),
            N_("Drawn in code by CNN Explorer."),
            _digit_png,
        ),
    )
}


def shown_title(name: str) -> str:
    """The title of a sample in the reader's language.

    Args:
        name: the sample's key.

    Returns:
        Its title (``name`` itself if unknown).
    """
    return _(SAMPLES[name].title) if name in SAMPLES else name


def _sample(name: str) -> Sample:
    try:
        return SAMPLES[name]
    except KeyError:
        raise ImageError(
            _("There is no sample image called '{name}' (choose one of: {names}).").format(
                name=name, names=", ".join(SAMPLES)
            )
        ) from None


@functools.lru_cache(maxsize=len(SAMPLES))
def _cached_bytes(name: str) -> bytes:
    # bytes are immutable, so one cached copy is safe to share between sessions.
    return _sample(name).loader()


def sample_bytes(name: str) -> bytes:
    """The sample's file bytes (original JPEG/PNG), to be handled like an upload.

    Args:
        name: the sample's key.

    Returns:
        The file's bytes.

    Raises:
        ImageError: an unknown sample, or one not installed on this machine.
    """
    sample = _sample(name)
    try:
        return _cached_bytes(name)
    except (OSError, ImportError):
        raise ImageError(
            _("The sample image '{title}' is not installed on this machine.").format(title=_(sample.title))
        ) from None
