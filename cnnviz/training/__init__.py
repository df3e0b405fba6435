"""Training your own CNN: datasets, architectures, augmentation, the fit loop, results.

Also the models the project trains for itself (ZF-mini, distilled from EfficientNet-Lite0
with a first layer learned by ICA) and how unlike its training images an input is.
"""
