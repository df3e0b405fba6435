"""CNN Explorer's library: everything that computes. Never imports streamlit (see cnnviz/ui)."""

__version__ = "0.1.0"
