"""Not a page of its own: app.py serves /compare from another file (see app.py's PAGES).

Until a server has run app.py once, Streamlit maps page URLs to the files of pages/ by name;
without this file a first visitor's /compare link showed "Page not found" over the right page.
links.page() runs app.py, which opens the real page with the link's parameters.
"""

from cnnviz.ui import links

links.page()
