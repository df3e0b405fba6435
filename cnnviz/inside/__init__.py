"""Looking inside a network: what is read from a forward pass.

The layer catalogue (every module call, its kind and shapes), activation capture, feature
maps and filters as pictures, the dataflow graph, receptive fields, one channel's own
weights, the whole forward pass as columns (the Network page), the prediction, two models
side by side, and what work on a network costs in memory. Every hook or tracer on a model
is made by :mod:`cnnviz.trace` (the one traced forward, at the top level because the
models' fast copies use it too), so a shared model is never left hooked.
"""
