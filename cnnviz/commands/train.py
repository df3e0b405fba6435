"""`train`: train a small CNN on a dataset and save it where the app (and `predict`) find it.

The shipped ``tinyvgg_mnist`` is made by ``make tinyvgg``:
``python -m cnnviz train --dataset mnist5k --arch tinyvgg --seed 0 --out cnnviz/weights/tinyvgg_mnist``.
A saved model is opened by name (``--model NAME``) when it is in the user-models folder,
or anywhere by the path of its JSON file (``--model path/to/NAME.json``), with
``--weights`` left at ``pretrained`` (its own weights) or pointing at another state dict.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import asdict, replace
from pathlib import Path

from cnnviz.cli import OutputError, print_json
from cnnviz.errors import CnnvizError


def register(sub) -> None:
    """Add the ``train`` command to the CLI: train a small CNN (TinyVGG or LeNet-5) and save it."""
    p = sub.add_parser("train", help="train a small CNN (TinyVGG or LeNet-5) and save it")
    p.add_argument(
        "--dataset",
        default="mnist5k",
        help="mnist5k (default), digits, shapes, folder:PATH, zip:PATH, mnist, fashionmnist, cifar10",
    )
    p.add_argument("--arch", default="tinyvgg", choices=["tinyvgg", "lenet"])
    p.add_argument("--epochs", type=int, default=None, help="default 12")
    p.add_argument("--batch-size", type=int, default=None, help="default 64")
    p.add_argument("--lr", type=float, default=None, help="default 0.003 (Adam)")
    p.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=int, default=None, help="image side for folder/zip/shapes data (default 32)")
    p.add_argument("--no-augment", action="store_true", help="train on the images as they are")
    p.add_argument("--download", action="store_true", help="let torchvision datasets download once (online)")
    p.add_argument("--out", default=None, help="save as OUT.safetensors + OUT.json (default: the user-models folder)")
    p.add_argument("--name", default=None, help="model name in the user-models folder (default <arch>_<dataset>)")
    p.add_argument("--title", default=None, help="title shown in the model picker")
    p.add_argument(
        "--json",
        action="store_true",
        help='{"val_accuracy", "epochs", "seconds", "images_per_second", "classes", "path", ...}',
    )
    p.set_defaults(func=run)


# What the command accepts; all checked before any data is read or any step is trained.
LIMITS = {"epochs": (1, 500), "batch_size": (1, 1024), "size": (8, 128)}
MAX_LR = 10.0


def check_args(args) -> None:
    """Refuse bad numbers and names with one sentence, before any work starts.

    Args:
        args: the parsed command line.

    Raises:
        CnnvizError: a number out of its range, a bad learning rate, or a bad name.
    """
    from cnnviz.training import results

    for key, (lo, hi) in LIMITS.items():
        v = getattr(args, key)
        if v is not None and not lo <= v <= hi:
            raise CnnvizError(f"--{key.replace('_', '-')} must be between {lo} and {hi} (got {v}).")
    if args.lr is not None and not (math.isfinite(args.lr) and 0 < args.lr <= MAX_LR):
        raise CnnvizError(f"--lr must be a number above 0 and at most {MAX_LR:g} (got {args.lr}).")
    if args.out is None and args.name is not None:
        results.check_name(args.name)  # a bad name is refused now, not after the training
    if args.out is not None:
        check_out(args.out)


def check_out(out: str) -> None:
    """Refuse an --out the two files cannot be written to (a folder's name, a folder without
    write permission, a file where a folder must be), before the training rather than after
    it. A full disk still shows only when the files are written.

    Args:
        out: the --out path.

    Raises:
        OutputError: the files cannot be written there.
    """
    from cnnviz.models import usermodels

    for path in usermodels.paths(out):
        if path.is_dir():
            raise OutputError(f"cannot write {path}: it is a folder.")
    folder = usermodels.paths(out)[0].parent
    existing = next((f for f in (folder, *folder.parents) if f.exists()), Path("."))
    if not existing.is_dir():
        raise OutputError(f"cannot write under {folder}: {existing} is not a folder.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write under {folder}: permission denied.")


def run(args) -> int:
    """Train the model and save it as a CNN Explorer model."""
    from cnnviz.models import small_cnn as arch
    from cnnviz.models.zoo import default_device
    from cnnviz.training import datasets, results
    from cnnviz.training.augment import Augment
    from cnnviz.training.fit import TrainConfig, build_and_fit
    from cnnviz.training.recipes import recipe_for

    check_args(args)
    ds = datasets.load(args.dataset, download=args.download, size=args.size)
    cfg = TrainConfig(
        seed=args.seed, optimizer=args.optimizer, augment=Augment() if args.no_augment else recipe_for(ds.name).augment
    )
    cfg = replace(
        cfg, **{k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("lr", args.lr)) if v}
    )
    a = arch.preset(args.arch)
    device = default_device()

    def progress(r: dict) -> None:
        pt = r["point"]
        if "val_acc" in pt and not args.json:
            print(
                f"epoch {pt['epoch']:g}: validation accuracy {pt['val_acc']:.2%} ({r['seconds']:.1f} s)",
                file=sys.stderr,
                flush=True,
            )

    model, fit = build_and_fit(ds, a, cfg, device=device, on_progress=progress)
    name = args.name or f"{args.arch}_{ds.name}".replace(":", "_")
    config = {**asdict(cfg), "augment": asdict(cfg.augment)}
    meta = results.checkpoint_meta(name, a, ds, fit, title=args.title, config=config)
    try:
        path = results.save_model(model, meta, args.out)
    except OSError as e:
        raise OutputError(
            f"cannot save the model to {args.out or 'the user-models folder'}: {e.strerror or e}."
        ) from None
    out = {
        "val_accuracy": round(fit.val_accuracy, 4),
        "epochs": cfg.epochs,
        "seconds": round(fit.seconds, 2),
        "images_per_second": round(fit.images_per_second, 1),
        "classes": ds.classes,
        "dataset": ds.name,
        "arch": args.arch,
        "params": arch.count_params(model),
        "skipped": ds.skipped,
        "device": device.type,
        "path": str(path),
        "model": meta["name"] if args.out is None else str(path.with_suffix(".json")),
    }
    if args.json:
        print_json(out)  # NaN (a diverged run) becomes null: always valid JSON
    else:
        print(
            f"validation accuracy {fit.val_accuracy:.2%} after {cfg.epochs} epochs in {fit.seconds:.1f} s "
            f"({fit.images_per_second:.0f} images/s); saved {path}"
        )
    return 0
