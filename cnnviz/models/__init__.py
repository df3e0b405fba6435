"""Models: every network the app can explore, how it is built, loaded and fed.

The registry (:mod:`.zoo`: register, list, ``load_model``), the built model every session
shares (:mod:`.loaded_model`) and what it costs in memory before it is built, the
preprocessing each model expects, the architectures this project defines itself (with
module names made for exploring), and models from ONNX files, checked as data and built
as ordinary torch layers.
"""
