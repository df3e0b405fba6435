"""Why the model said it: explanation methods as objects in one registry, and the sweep.

* :mod:`.core` - :class:`Method` (the base: times the run, checks the layer, builds the
  :class:`Explanation`), the registry :data:`METHODS`, :func:`explain`, gradients at layers;
* :mod:`.cam` - Grad-CAM and Grad-CAM++ (layer resolution; each overrides ``weights``);
* :mod:`.pixel` - Guided Grad-CAM, saliency, Integrated Gradients, occlusion (input
  resolution; each overrides ``attribute`` and ``reduce``);
* :mod:`.path` - Integrated Gradients' path integral, refined until its sum adds up;
* :mod:`.blocks` - Grad-CAM at every block in one pass.

Importing this package registers every method.
"""

from cnnviz.explain.blocks import Sweep, sweep, sweep_layers
from cnnviz.explain.cam import CamMethod, GradCAM, GradCAMPlusPlus
from cnnviz.explain.core import (
    IG_STEPS,
    METHODS,
    Completeness,
    ExplainError,
    Explanation,
    Method,
    explain,
    get_method,
    layer_acts_and_grads,
    register,
)
from cnnviz.explain.path import IG_BATCH, IG_BUDGET_S, IG_MAX_STEPS, IG_TOLERANCE, integrated_gradients
from cnnviz.explain.pixel import (
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
    "IG_BUDGET_S",
    "IG_MAX_STEPS",
    "IG_TOLERANCE",
    "IG_STEPS",
    "METHODS",
    "CamMethod",
    "Completeness",
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
    "integrated_gradients",
    "layer_acts_and_grads",
    "occlusion_patches",
    "occlusion_window",
    "register",
    "sweep",
    "sweep_layers",
]
