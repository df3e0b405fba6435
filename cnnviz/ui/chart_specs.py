"""Altair charts built once per process, drawn as Vega-Lite specs.

Building an Altair chart and converting it (``st.altair_chart`` validates the whole spec
against Vega-Lite's JSON schema) took most of a page run on the Activations and
Preprocessing pages: ~100 ms of interpreter time each. A class's thirty followers draw the
same chart for the same step, and a student who moves a slider back draws one seen before,
so :func:`spec` keeps the converted spec (a plain dict) per builder, arguments and reader's
language (a builder's titles, axes and description are in it), and the page draws it with
``st.vega_lite_chart``: a copy, since Streamlit takes the data out of it.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import pandas as pd

from cnnviz import i18n

MAX_SPECS = 256  # a spec is a few kB (its data: bins and bars, never pictures)

_specs: OrderedDict[tuple, dict] = OrderedDict()
_lock = threading.Lock()


def _part(value: object) -> object:
    """A hashable stand-in for one argument: arrays and frames by their bytes' digest."""
    if isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value)
        return ("array", a.dtype.str, a.shape, hashlib.blake2b(a.tobytes(), digest_size=16).hexdigest())
    if isinstance(value, pd.DataFrame):
        digest = hashlib.blake2b(pd.util.hash_pandas_object(value, index=True).values.tobytes(), digest_size=16)
        return ("frame", tuple(map(str, value.columns)), tuple(map(str, value.dtypes)), digest.hexdigest())
    if isinstance(value, list | tuple):
        return (type(value).__name__, *map(_part, value))
    if isinstance(value, dict):
        return ("dict", *((k, _part(v)) for k, v in value.items()))
    return (type(value).__name__, repr(value))


def spec(build: Callable, *args, **kwargs) -> dict:
    """The Vega-Lite spec of the Altair chart ``build(*args, **kwargs)``, computed once per
    process for equal arguments and language.

    Args:
        build: a pure chart builder (the same arguments always give the same chart).
        args, kwargs: its arguments: numbers, text, numpy arrays, DataFrames, lists/dicts of them.
    Returns:
        A fresh copy of the spec, for ``st.vega_lite_chart`` (through ``present.chart``).
    """
    return specs(build, *args, **kwargs)[0]


def specs(build: Callable, *args, **kwargs) -> list[dict]:
    """As :func:`spec`, for a builder that returns a list of charts: one spec each."""
    # the language is part of the key: a German student never gets a chart titled in Spanish
    key = (i18n.current(), build.__module__, build.__qualname__, _part(args), _part(kwargs))
    with _lock:
        found = _specs.get(key)
        if found is not None:
            _specs.move_to_end(key)
    if found is None:
        made = build(*args, **kwargs)
        found = [c.to_dict() for c in (made if isinstance(made, list) else [made])]
        with _lock:
            _specs[key] = found
            while len(_specs) > MAX_SPECS:
                _specs.popitem(last=False)
    return copy.deepcopy(found)
