"""Live: a camera's frames through the network, for each student and for the class.

One frame's analysis (its top-5, a layer's strongest channels, Grad-CAM) made of the still
pages' functions, the class's streams (a cap, one per student, the frame rate the server
can grant) and the two HTTP routes, beside Streamlit's, that frames arrive on.
"""
