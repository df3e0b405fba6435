"""Train ZF-mini (``cnnviz.models.classic_cnn``) by distilling the offline EfficientNet-Lite0.

No installed package ships a trained CNN with large first-layer filters, and no data set of
natural photos ships offline beyond a few dozen sample pictures. So the student learns to
give EfficientNet-Lite0's ImageNet probabilities on random crops of those photos
(``cnnviz.inputs.gallery.PHOTOS``: matplotlib's, scikit-image's and scikit-learn's), some of
them blended two by two (mixup) for variety. Its 7×7 first layer is not left to
backpropagation (below): it starts as the ICA filters of the crops' natural patches
(``cnnviz.training.ica_init``), oriented edges and colour blobs, which ``cnnviz.inside.filter_spectrum``
checks.

Steps: (1) ``crops`` random crops, each as the teacher sees it (224×224) and as the student
does (112×112), labelled once by the teacher (its logits); (2) ``conv1`` set to the ICA of
``ica_patches`` 7×7 patches of the training crops; (3) ``epochs`` passes of the student over
the crops, minimising the KL divergence to the teacher's softened probabilities, with random
flips and shifts; ``conv1`` frozen for the first ``freeze_epochs``, then fine-tuned at
``conv1_lr_scale`` of the learning rate. The last ``holdout`` crops are never trained on:
the report's agreement is measured there.

Status (2 shared cores, 1 torch thread, nice 19; other benchmarks running). Without ICA, on
1,600 crops: AdamW had 77 % teacher-top-1-in-top-5 on the held-out crops after 5 epochs
but only 20 % of its 64 filters oriented (selectivity index >= 0.35); SGD 59 % and 12 %
(median index 0.15, random init 0.09): backpropagation on ~30 photos leaves 7×7 filters
colour noise. With the ICA first layer: the ICA alone (100,000 patches, 12 s) gives 89-91 %
oriented, median index 0.59-0.60. 10 epochs on the same 1,600 crops (5 frozen): 61 % on the
held-out crops, filters unchanged at 89 % (191 s). The shipped run, the defaults here
(4,800 crops, 20 epochs, 8 frozen): the teacher's labels 107 s, the ICA 12 s, training
1,222 s (50-90 s an epoch). On the 400 held-out crops: student top-1 = teacher top-1 57 %,
teacher's top-1 in the student's top 5 84 %; on the 31 whole photos through the app, the
student's top-1 is in the teacher's top 5 for 28. First layer: 92 % oriented (59 of 64),
median index 0.60, the same as before fine-tuning (0.91, 0.60): the slow fine-tuning keeps
the ICA filters. Reproducible by one command (``make zfmini``)::

    python -m cnnviz.training.distil --out cnnviz/weights/zfmini_distilled.safetensors
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file
from threadpoolctl import threadpool_limits

from cnnviz.inputs.gallery import PHOTOS, package_file
from cnnviz.inputs.images import decode_image
from cnnviz.inside.filter_spectrum import orientation_selectivity
from cnnviz.models import classic_cnn as zf
from cnnviz.models import zoo
from cnnviz.models.preprocess import Preprocess
from cnnviz.training import ica_init

# Per-filter L2 norm of PyTorch's default conv initialisation (uniform ±1/sqrt(fan_in), so
# sqrt(fan_in) weights of std 1/sqrt(3 fan_in)): ICA filters scaled to it start where the
# optimiser's step sizes expect them.
CONV1_NORM = 1.0 / math.sqrt(3.0)


@dataclass(frozen=True)
class DistilConfig:
    crops: int = 4800  # teacher-labelled crops: the teacher's forward is the expensive part
    holdout: int = 400  # of those, never trained on (agreement is measured there)
    mix_fraction: float = 0.3  # crops that blend two crops (mixup), for variety beyond ~27 photos
    min_area: float = 0.08  # a crop covers this much of its photo at least (RandomResizedCrop's)
    epochs: int = 20
    shift: int = 8  # random translation (pixels) of the student's crop: more variety, same label
    batch_size: int = 64
    lr: float = 0.05  # SGD with Nesterov momentum, one-cycle schedule
    # L2 on every weight: the first layer's noise decays, its structure stays. SGD, not Adam,
    # whose per-weight step sizes left the 7×7 filters noisy (20 % oriented after 5 epochs).
    weight_decay: float = 5e-4
    temperature: float = 2.0  # softens both distributions: the teacher's runner-up classes teach too
    # conv1 starts as ICA filters of natural patches (cnnviz.training.ica_init), frozen while the random
    # layers above learn to use them (their early gradients would scramble the filters), then
    # fine-tuned slowly, without weight decay, so that they stay Gabor-like.
    ica_patches: int = 100_000
    freeze_epochs: int = 8
    conv1_lr_scale: float = 0.1
    seed: int = 0


def _photos() -> list[Image.Image]:
    return [decode_image(package_file(pkg, name)).convert("RGB") for _, pkg, name in PHOTOS]


def _random_box(w: int, h: int, min_area: float, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """A square-ish random crop box (RandomResizedCrop: area share and aspect ratio at random)."""
    for _ in range(10):
        area = w * h * rng.uniform(min_area, 1.0)
        ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        cw, ch = round(math.sqrt(area * ratio)), round(math.sqrt(area / ratio))
        if 0 < cw <= w and 0 < ch <= h:
            x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            return x, y, x + cw, y + ch
    side = min(w, h)
    return (w - side) // 2, (h - side) // 2, (w + side) // 2, (h + side) // 2


def _as_tensor(img: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(img, dtype=np.uint8).transpose(2, 0, 1).copy())  # (3, H, W)


def make_crops(cfg: DistilConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """``(big, small)``: uint8 crops (N, 3, 224, 224) for the teacher and (N, 3, 112, 112) for the student."""
    rng = np.random.default_rng(cfg.seed)
    photos = _photos()
    big_side, small_side = 224, zf.PREPROCESS["size"]
    big = torch.empty(cfg.crops, 3, big_side, big_side, dtype=torch.uint8)
    small = torch.empty(cfg.crops, 3, small_side, small_side, dtype=torch.uint8)

    def one() -> tuple[Image.Image, Image.Image]:
        img = photos[int(rng.integers(len(photos)))]
        crop = img.crop(_random_box(*img.size, cfg.min_area, rng))
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        # Bilinear with PIL's antialiasing, as Preprocess.crop resizes in the app.
        return crop.resize((big_side, big_side), Image.BILINEAR), crop.resize((small_side, small_side), Image.BILINEAR)

    for i in range(cfg.crops):
        b, s = one()
        if rng.random() < cfg.mix_fraction:
            b2, s2 = one()
            lam = float(rng.uniform(0.3, 0.7))
            b, s = Image.blend(b, b2, lam), Image.blend(s, s2, lam)
        big[i], small[i] = _as_tensor(b), _as_tensor(s)
    return big, small


def _normalized(x: torch.Tensor, spec: Preprocess) -> torch.Tensor:
    return spec.normalize(x.float() / 255.0)


@torch.no_grad()  # not inference_mode: the teacher's fast copy checks its weights' versions
def teacher_logits(big: torch.Tensor, batch: int = 32) -> torch.Tensor:
    """(N, 1000) float32 logits of the offline EfficientNet-Lite0 for uint8 crops (N, 3, 224, 224)."""
    teacher = zoo.load_model("efficientnet_lite0", device="cpu")
    out = []
    with teacher.use() as model:
        for i in range(0, len(big), batch):
            out.append(teacher.fast_forward(model, _normalized(big[i : i + batch], teacher.preprocess_spec)).float())
            if i % (10 * batch) == 0:
                print(f"teacher: {i + batch}/{len(big)} crops", flush=True)
    return torch.cat(out)


def agreement(student_logits: torch.Tensor, teacher: torch.Tensor) -> dict[str, float]:
    """Top-1 agreement and the teacher's top-1 within the student's top 5, over (N, 1000) logits."""
    t1 = teacher.argmax(1)
    s5 = student_logits.topk(5, dim=1).indices
    return {
        "top1_agreement": float((s5[:, 0] == t1).float().mean()),
        "teacher_top1_in_top5": float((s5 == t1[:, None]).any(1).float().mean()),
    }


def _shifted(x: torch.Tensor, shift: int, gen: torch.Generator) -> torch.Tensor:
    """``x`` (B, C, H, W) moved by one random offset of up to ``shift`` pixels (reflected borders)."""
    if shift <= 0:
        return x
    dy, dx = (int(v) for v in torch.randint(0, 2 * shift + 1, (2,), generator=gen))
    h, w = x.shape[-2:]
    return F.pad(x, (shift, shift, shift, shift), mode="reflect")[..., dy : dy + h, dx : dx + w]


def ica_conv1(small: torch.Tensor, shape: torch.Size, n_patches: int, seed: int) -> torch.Tensor:
    """ICA filters (O, 3, k, k) of unit norm for ``conv1``, from patches of uint8 crops (N, 3, H, W)."""
    x = ica_init.patches(
        small.numpy(), n_patches, shape[-1], zf.PREPROCESS["mean"], zf.PREPROCESS["std"], np.random.default_rng(seed)
    )
    return torch.from_numpy(ica_init.ica_filters(x, shape[0], shape[-1], seed=seed))


def train(cfg: DistilConfig, small: torch.Tensor, logits: torch.Tensor, log=print) -> tuple[torch.nn.Module, dict]:
    """The distilled student (eval mode) and its metrics, from crops (N, 3, 112, 112) and teacher logits (N, 1000)."""
    torch.manual_seed(cfg.seed)
    spec = Preprocess(**zf.PREPROCESS)
    model = zf.build_zfmini()
    n_train = len(small) - cfg.holdout
    conv1 = model.features.conv1.weight
    with torch.no_grad():
        conv1.copy_(ica_conv1(small[:n_train], conv1.shape, cfg.ica_patches, cfg.seed) * CONV1_NORM)
    conv1.requires_grad_(cfg.freeze_epochs == 0)
    rest = [p for n, p in model.named_parameters() if n != "features.conv1.weight"]
    steps = cfg.epochs * math.ceil(n_train / cfg.batch_size)
    conv1_lr = cfg.lr * cfg.conv1_lr_scale
    groups = [{"params": rest}, {"params": [conv1], "lr": conv1_lr, "weight_decay": 0.0}]
    opt = torch.optim.SGD(groups, lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[cfg.lr, conv1_lr], total_steps=steps, pct_start=0.2)
    gen = torch.Generator().manual_seed(cfg.seed)
    t_soft = F.log_softmax(logits / cfg.temperature, dim=1)
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        if epoch == cfg.freeze_epochs:
            conv1.requires_grad_(True)
        model.train()
        order = torch.randperm(n_train, generator=gen)
        total = 0.0
        for i in range(0, n_train, cfg.batch_size):
            idx = order[i : i + cfg.batch_size]
            x = _normalized(small[idx], spec)
            flip = torch.rand(len(idx), generator=gen) < 0.5
            x = _shifted(torch.where(flip[:, None, None, None], x.flip(-1), x), cfg.shift, gen)
            s_log = F.log_softmax(model(x) / cfg.temperature, dim=1)
            loss = F.kl_div(s_log, t_soft[idx], log_target=True, reduction="batchmean") * cfg.temperature**2
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        model.eval()
        with torch.inference_mode():
            held = model(_normalized(small[n_train:], spec))
        osi = orientation_selectivity(model.features.conv1.weight.detach().numpy())
        log(
            f"epoch {epoch + 1}/{cfg.epochs}: loss {total / n_train:.3f}, held-out {agreement(held, logits[n_train:])}, "
            f"oriented filters {osi.fraction_oriented:.2f} (median index {np.median(osi.index):.2f}), {time.perf_counter() - start:.0f} s",
        )
    metrics = {
        **agreement(held, logits[n_train:]),
        "oriented_fraction": osi.fraction_oriented,
        "median_selectivity": float(np.median(osi.index)),
    }
    metrics["train_seconds"] = round(time.perf_counter() - start, 1)
    return model, metrics


def save(model: torch.nn.Module, cfg: DistilConfig, metrics: dict, out: Path) -> None:
    """float16 safetensors (the app loads them into float32), with the recipe in its metadata."""
    state = {k: v.detach().contiguous().half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    meta = {
        "model": zf.NAME,
        "teacher": "efficientnet_lite0",
        "config": json.dumps(asdict(cfg)),
        "metrics": json.dumps(metrics),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out), metadata=meta)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=zf.WEIGHTS_PATH)
    ap.add_argument("--cache", type=Path, help="keep the teacher-labelled crops here (.pt) and reuse them")
    ap.add_argument("--epochs", type=int, default=DistilConfig.epochs)
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)  # numpy's BLAS too (the ICA): the machine is shared
    cfg = DistilConfig(epochs=args.epochs)
    crop_key = {k: v for k, v in asdict(cfg).items() if k in ("crops", "mix_fraction", "min_area", "seed")}
    cached = torch.load(args.cache, weights_only=True) if args.cache and args.cache.is_file() else None
    if cached is not None and cached["key"] == json.dumps(crop_key):
        small, logits = cached["small"], cached["logits"]
    else:
        t0 = time.perf_counter()
        big, small = make_crops(cfg)
        logits = teacher_logits(big)
        print(f"{cfg.crops} crops labelled by the teacher in {time.perf_counter() - t0:.0f} s")
        if args.cache:
            torch.save({"key": json.dumps(crop_key), "small": small, "logits": logits}, args.cache)
    model, metrics = train(cfg, small, logits)
    save(model, cfg, metrics, args.out)
    print(f"saved {args.out} ({args.out.stat().st_size / 1e6:.1f} MB): {metrics}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
