"""Starting settings per dataset that learn something visible within their own epochs.

Measured here (seed 0, one CPU thread; validation accuracy after each epoch):
- shapes, the old one-size defaults (batch 64, no batch norm, flips/turns/shifts/brightness):
  0.25, 0.44, 0.42, 0.45 after 4 epochs — a class saw chance for the first minutes.
  With batch 32, batch norm and flips + turns only: 0.52 after one epoch, 0.85 after 8.
- mnist5k keeps the settings the shipped ``tinyvgg_mnist`` was trained with (97.5 % in 12 epochs),
  so `make tinyvgg` still reproduces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnnviz.i18n import _, percent
from cnnviz.training.augment import Augment

DIGITS = ("mnist5k", "digits", "mnist", "fashionmnist")


@dataclass(frozen=True)
class Recipe:
    """The Train page's defaults for one dataset (the CLI takes ``augment`` from it too)."""

    epochs: int = 8
    batch_size: int = 32
    lr: float = 3e-3
    batchnorm: bool = True  # rescaled channels: the first epochs learn much faster on small data
    augment: Augment = field(default_factory=lambda: Augment(flip=True, rotate=15.0))


RECIPES: dict[str, Recipe] = {
    "mnist5k": Recipe(epochs=12, batch_size=64, batchnorm=False, augment=Augment(rotate=10.0, shift=0.08)),
    "digits": Recipe(epochs=12, batch_size=32, augment=Augment(rotate=10.0, shift=0.08)),
    "mnist": Recipe(epochs=4, batch_size=64, augment=Augment(rotate=10.0, shift=0.08)),
    "fashionmnist": Recipe(epochs=6, batch_size=64, augment=Augment(shift=0.08)),  # clothes: no turns
    "shapes": Recipe(epochs=8, batch_size=32, augment=Augment(flip=True, rotate=15.0)),
}


def recipe_for(dataset: str) -> Recipe:
    """The training recipe of a dataset.

    Args:
        dataset: the dataset's name.

    Returns:
        Its Recipe; the user's own photos (folders, zips) get the generic one, with
        brightness changes too (photos are taken in every light).
    """
    if dataset in RECIPES:
        return RECIPES[dataset]
    return Recipe(augment=Augment(flip=True, rotate=15.0, shift=0.08, brightness=0.2))


def chance_advice(
    val_accuracy: float, num_classes: int, recipe: Recipe, *, epochs: float, batchnorm: bool
) -> str | None:
    """Why a finished run is no better than guessing, and what to try.

    "At chance" means within 10 points of 1/num_classes, the score of always guessing.

    Args:
        val_accuracy: the validation accuracy, 0..1.
        num_classes: how many classes.
        recipe: the dataset's recipe.
        epochs: the epochs trained.
        batchnorm: whether the network had batch norm.

    Returns:
        A sentence in the reader's language, or None when it learnt.
    """
    chance = 1.0 / max(num_classes, 1)
    if val_accuracy > chance + 0.10:
        return None
    tips = []
    if epochs < recipe.epochs:
        tips.append(_("train longer ({n} epochs or more)").format(n=recipe.epochs))
    if not batchnorm:
        tips.append(_("switch batch norm on"))
    tips += [
        _("try a learning rate of 1e-3 or 3e-3 (too large jumps past the answer, too small barely moves)"),
        _("use less augmentation at first"),
    ]
    return _(
        "Validation accuracy {accuracy} is about chance ({chance} = guessing among {n} classes): "
        "the network has not learnt yet. Try: {tips}."
    ).format(accuracy=percent(val_accuracy, 0), chance=percent(chance, 0), n=num_classes, tips="; ".join(tips))
