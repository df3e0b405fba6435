"""One channel's visualisation and examples: what excites a channel.

Feature visualisation (an input optimised to excite one channel, from a Fourier-scaled
picture, with ReLUs whose gradient is redirected while it starts) and the top-activating
examples of an image pool. Both are long jobs; they run through the class's queue
(:mod:`cnnviz.serving.jobs`) and their results are kept on disk.
"""
