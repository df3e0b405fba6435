"""Teaching maths: the operations of a CNN worked out by hand, small enough to show.

Convolution with its windows, products and sums; pooling; activation functions and
softmax; how one unit of a layer was computed; a model's preprocessing taken apart into
steps, and the same photo fed with one mistake on purpose. Numpy and plain torch only:
each result is checked in the tests against the library operation it explains.
"""
