"""Looking inside a network: one traced forward pass and what is read from it.

The layer catalogue (every module call, its kind and shapes), activation capture, feature
maps and filters as pictures, the dataflow graph, receptive fields, one channel's own
weights, the whole forward pass as columns (the Network page), the prediction, two models
side by side and a live camera frame. Every hook or tracer on a model is made in one
module of this package, so a shared model is never left hooked.
"""
