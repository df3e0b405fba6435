"""Why the model said it: explanation methods as objects in one registry, and the sweep.

* :mod:`.core` - :class:`Method` (the base: times the run, checks the layer, builds the
  :class:`Explanation`), the registry :data:`METHODS`, :func:`explain`, gradients at layers;
* :mod:`.cam` - Grad-CAM and Grad-CAM++ (layer resolution; each overrides ``weights``);
* :mod:`.pixel` - Guided Grad-CAM, saliency, Integrated Gradients, occlusion (input
  resolution; each overrides ``attribute`` and ``reduce``);
* :mod:`.blocks` - Grad-CAM at every block in one pass.

Importing this package registers every method.
"""

from cnnviz.explain.blocks import Sweep, sweep, sweep_layers
from cnnviz.explain.cam import CamMethod, GradCAM, GradCAMPlusPlus
from cnnviz.explain.core import (
    IG_STEPS,
    METHODS,
    ExplainError,
    Explanation,
    Method,
    explain,
    get_method,
    layer_acts_and_grads,
    register,
)
from cnnviz.explain.pixel import (
    IG_BATCH,
    GuidedGradCAM,
    IntegratedGradientsMap,
    OcclusionMap,
    PixelMethod,
    SaliencyMap,
    black_input,
    occlusion_patches,
    occlusion_window,
)

__all__ = [
    "IG_BATCH",
    "IG_STEPS",
    "METHODS",
    "CamMethod",
    "ExplainError",
    "Explanation",
    "GradCAM",
    "GradCAMPlusPlus",
    "GuidedGradCAM",
    "IntegratedGradientsMap",
    "Method",
    "OcclusionMap",
    "PixelMethod",
    "SaliencyMap",
    "Sweep",
    "black_input",
    "explain",
    "get_method",
    "layer_acts_and_grads",
    "occlusion_patches",
    "occlusion_window",
    "register",
    "sweep",
    "sweep_layers",
]
