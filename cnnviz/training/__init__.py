"""Training your own CNN: datasets, architectures, augmentation, the fit loop, results."""
