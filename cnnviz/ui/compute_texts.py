"""Teaching texts of the convolution, activation and pooling pages ("What am I looking at?").

Marked for the catalogue here; the page translates them where it shows them (``_(texts.CONV_STEP)``),
in the reader's language, which is only known inside a run.
"""

from cnnviz.i18n import N_

CONV_PLAYGROUND = N_(
    "The left picture is your photo as the model gets it (cropped, here in grey). The right picture "
    "is the result of sliding the kernel over it. Blurs and the identity keep brightness, so the "
    "output is shown in grey. Edge kernels give negative and positive numbers: **red** is positive, "
    "**blue** negative, **white** zero — flat areas become white, edges light up. A stride of 2 "
    "skips every other position, so the output is half as wide; padding adds a border of zeros so "
    "the window can also sit on the edge pixels."
)

CONV_STEP = N_(
    "Each output pixel comes from one window of input pixels. The left table holds the brightness of "
    "the pixels under the red window (0 = black, 1 = white), the middle one the kernel. Multiply each "
    "value by the weight in the same place (third table: red cells push the sum up, blue cells pull it "
    "down) and add all the products: that single number is the output pixel. Move the position slider "
    "and the window slides by the stride; the network does exactly this at every position."
)

CONV_NETWORK = N_(
    "This is filter {i} of the network's first convolution, learned in training. It works like the "
    "playground with two differences: it sees the **normalised** input (each colour channel has the "
    "training mean subtracted and is divided by its spread, so values run from about −2 to 2), and it "
    "has a {k}×{k} kernel **per colour channel**: the products over all {n} values "
    "are added into one number, plus a bias. The red/green/blue picture shows its weights (grey = "
    "zero). Many first-layer filters look like the edge and colour detectors above. In the network "
    "this map then goes through batch normalisation and an activation (see the Activations page)."
)
